"""Health checks: episodes, spikes, check timing, Route 53 drops, and the two detectors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incidentkit import findings, schema
from incidentkit.analyses import healthchecks as hc
from incidentkit.findings import Inputs
from incidentkit.window import Window

from _helpers.analysis import ODD_INPUTS, assert_detectors_survive

T0 = pd.Timestamp("2026-03-03T10:00:00Z")
TG = "targetgroup/web/73e2d6bc24d8a067"
TG_ARN = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{TG}"
LB = "app/web/50dc6c495c0c9188"
ELB_DIMS = {"LoadBalancer": LB, "TargetGroup": TG}


def metric(name, values, *, start=T0, period=60, dims=None, stat="Sum", ns="AWS/ApplicationELB"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame(
        {
            "timestamp": ts,
            "query_id": f"q{abs(hash(name)) % 1000}",
            "label": name,
            "namespace": ns,
            "metric_name": name,
            "dimensions": json.dumps(dims if dims is not None else ELB_DIMS, sort_keys=True, separators=(",", ":")),
            "stat": stat,
            "period": period,
            "value": np.asarray(values, dtype=float),
        }
    )


def tg_settings(interval=5, timeout=2, unhealthy=2, healthy=2, arn=TG_ARN):
    return pd.DataFrame(
        {
            "timestamp": T0,
            "resource_type": "target_group",
            "resource_id": arn,
            "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "UnhealthyThresholdCount",
                        "HealthyThresholdCount", "Port", "deregistration_delay.timeout_seconds"],
            "value": [str(interval), str(timeout), str(unhealthy), str(healthy), "traffic-port", "300"],
        }
    )


def fleet(n=180, *, spikes=(), spike_kind="cpu", unhealthy_at=(), episode_bins=2, e502=40, seed=0, hosts=4):
    """An ALB target group over ``n`` minutes: traffic, CPU, p99 latency, host counts and 502s."""
    rng = np.random.default_rng(seed)
    requests = rng.normal(3000, 120, n).round()
    cpu = rng.normal(25, 3, n).clip(5, 60)
    p99 = rng.normal(0.30, 0.03, n).clip(0.1)
    unhealthy = np.zeros(n)
    elb502 = rng.poisson(0.2, n).astype(float)
    for i in spikes:
        if spike_kind == "cpu":
            cpu[i] = 96.0
            p99[i] = 2.4
        else:
            p99[i] = 6.5
    for i in unhealthy_at:
        unhealthy[i: i + episode_bins] = np.maximum(unhealthy[i: i + episode_bins], 1 + (i % 2))
        elb502[i: i + episode_bins] += e502
    return pd.concat(
        [
            metric("RequestCount", requests),
            metric("CPUUtilization", cpu, dims={"AutoScalingGroupName": "web-asg"}, stat="Maximum", ns="AWS/EC2"),
            metric("TargetResponseTime", p99, stat="p99"),
            metric("UnHealthyHostCount", unhealthy, stat="Maximum"),
            metric("HealthyHostCount", hosts - unhealthy, stat="Minimum"),
            metric("HTTPCode_ELB_502_Count", elb502, dims={"LoadBalancer": LB}),
            metric("HTTPCode_ELB_5XX_Count", elb502 + rng.poisson(0.3, n), dims={"LoadBalancer": LB}),
        ],
        ignore_index=True,
    )


SPIKES = (12, 31, 47, 70, 88, 104, 131, 160)


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


def test_detect_flapping_incident6_cpu_spikes_tight_settings():
    m = fleet(spikes=SPIKES, unhealthy_at=SPIKES)
    targets = pd.DataFrame({"target_group_arn": TG_ARN, "target_id": ["i-1", "i-2", "i-3", "i-4"],
                            "state": ["unhealthy", "healthy", "healthy", "healthy"],
                            "reason": ["Target.Timeout", None, None, None]})
    inputs = Inputs(metrics=m, settings=tg_settings(), health={"targets": targets},
                    window=Window.parse(T0, T0 + pd.Timedelta(hours=3)))
    f = hc.detect_health_check_flapping(inputs)
    assert f is not None and f.id == "health-check-flapping"
    assert f.severity in ("medium", "high")
    assert f.confidence >= 0.8
    e = f.evidence
    assert e["unhealthy_episodes"] == 8 and e["share_short_episodes"] == 1.0
    assert e["episodes_with_spike"] == 1.0 and e["chance_of_spike"] < 0.5
    assert e["HealthCheckIntervalSeconds"] == 5 and e["HealthCheckTimeoutSeconds"] == 2
    assert e["elb_502_in_episodes"] >= 640 and e["target_timeout_reasons"] == 1
    text = " ".join(f.remediation)
    assert "HealthCheckIntervalSeconds 30" in text and "UnhealthyThresholdCount 3" in text
    assert "HealthCheckTimeoutSeconds 5" in text and TG_ARN in text


def test_detect_flapping_incident9_latency_spikes_against_timeout():
    m = fleet(spikes=SPIKES, spike_kind="latency", unhealthy_at=SPIKES, episode_bins=1, e502=15)
    f = hc.detect_health_check_flapping(Inputs(metrics=m, settings=tg_settings(10, 5, 2, 2)))
    assert f is not None
    assert f.confidence >= 0.75
    assert f.evidence["response_p99_peak_s"] == pytest.approx(6.5)
    assert "HealthCheckTimeoutSeconds 10" in f.remediation[0]  # 2 x 6.5 s capped at 10 s


def test_healthy_health_checks_raise_nothing():
    m = fleet(spikes=(50,))  # one CPU blip, nobody marked unhealthy, a trickle of 502s
    inputs = Inputs(metrics=m, settings=tg_settings(30, 5, 3, 5), requests=schema.empty_frame("requests"))
    assert hc.detect_health_check_flapping(inputs) is None
    got = findings.detect(inputs, only=["health-check-flapping", "healthcheck-blocked-by-change"])
    assert not got.errors and not got.at_least("medium")


def test_a_dead_host_is_not_flapping():
    n = 180
    m = fleet(n)
    m = m[m["metric_name"] != "UnHealthyHostCount"]
    unhealthy = np.zeros(n)
    unhealthy[40:150] = 1
    m = pd.concat([m, metric("UnHealthyHostCount", unhealthy, stat="Maximum")])
    assert hc.detect_health_check_flapping(Inputs(metrics=m, settings=tg_settings())) is None


def test_flapping_without_settings_or_spikes_is_low():
    m = fleet(unhealthy_at=SPIKES, e502=0)
    f = hc.detect_health_check_flapping(Inputs(metrics=m))
    assert f is not None and f.severity == "low" and f.confidence < 0.5


def test_flapping_edge_cases():
    assert hc.detect_health_check_flapping(Inputs()) is None
    assert hc.detect_health_check_flapping(Inputs(metrics=fleet(unhealthy_at=(10, 50)))) is None  # two blips only


# --------------------------------------------------------------------------- Route 53


HC_ID = "f1a2b3c4-0000-4000-8000-123456789abc"
DROP = pd.Timestamp("2026-03-03T14:00:00Z")


def route53_window(*, failing_service=False, drop=True):
    start = DROP - pd.Timedelta(hours=2)
    n = 180
    idx = np.arange(n)
    after = idx >= 120
    status = np.where(after & drop, 0.0, 1.0)
    share = np.where(after & drop, 0.0, 100.0)
    rng = np.random.default_rng(7)
    requests = np.where(after & drop, 150.0, 5000.0) + rng.normal(0, 50, n)
    e5xx = rng.poisson(4, n).astype(float)
    p99 = rng.normal(0.25, 0.02, n)
    if failing_service:
        e5xx[112:125] = 900
        p99[112:125] = 9.0
    r53 = {"HealthCheckId": HC_ID}
    return pd.concat(
        [
            metric("HealthCheckStatus", status, start=start, dims=r53, stat="Minimum", ns="AWS/Route53"),
            metric("HealthCheckPercentageHealthy", share, start=start, dims=r53, stat="Average", ns="AWS/Route53"),
            metric("RequestCount", requests, start=start),
            metric("HTTPCode_ELB_5XX_Count", e5xx, start=start, dims={"LoadBalancer": LB}),
            metric("UnHealthyHostCount", np.zeros(n), start=start, stat="Maximum"),
            metric("TargetResponseTime", p99, start=start, stat="p99"),
        ],
        ignore_index=True,
    )


def change_rows(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return schema.conform(df, "changes")


REVOKE = {
    "timestamp": DROP - pd.Timedelta(minutes=7),
    "source": "cloudtrail",
    "event_name": "RevokeSecurityGroupIngress",
    "class": "SECURITY_CHANGE",
    "actor": "arn:aws:iam::123456789012:user/ops-anna",
    "resource": "sg-0abc1234",
    "error_code": None,
    "detail": json.dumps({"api": "RevokeSecurityGroupIngress", "region": "us-east-1", "changed_by": "console",
                          "params": {"groupId": "sg-0abc1234", "ipPermissions": {"items": [
                              {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                               "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}}),
}
DEPLOY = {"timestamp": DROP - pd.Timedelta(hours=3), "source": "codedeploy", "event_name": "CreateDeployment",
          "class": "DEPLOYMENT", "actor": "arn:aws:iam::123456789012:role/pipeline", "resource": "web/prod"}
R53_SETTINGS = pd.DataFrame({"resource_type": "route53_health_check", "resource_id": HC_ID,
                             "setting": ["Type", "Port", "RequestInterval", "FailureThreshold"],
                             "value": ["HTTPS", "443", "30", "3"]})
TIMEOUT = ("Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being "
           "blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html")
CHECKERS = pd.DataFrame({"health_check_id": HC_ID,
                         "region": ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                                    "ap-northeast-1", "sa-east-1"],
                         "checker_ip": [f"15.177.{i}.10" for i in range(8)], "status": [TIMEOUT] * 8, "healthy": [False] * 8})


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


def test_detect_blocked_by_change_incident3():
    inputs = Inputs(metrics=route53_window(), changes=change_rows([DEPLOY, REVOKE]), settings=R53_SETTINGS,
                    health={"route53_checkers": CHECKERS})
    f = hc.detect_healthcheck_blocked_by_change(inputs)
    assert f is not None and f.id == "healthcheck-blocked-by-change"
    assert f.severity == "high" and f.confidence >= 0.9
    e = f.evidence
    assert e["change"] == "RevokeSecurityGroupIngress" and e["minutes_before_drop"] == 7
    assert e["change_port_matches_check"] is True and e["checked_port"] == 443 and e["checked_port_from"] == "settings"
    assert e["service_signals_healthy"] == e["service_signals_judged"] == 3
    assert e["share_failures_timed_out"] == 1.0
    assert [c["event_name"] for c in f.related_changes] == ["RevokeSecurityGroupIngress"]
    assert "com.amazonaws.us-east-1.route53-healthchecks" in f.remediation[0] and "sg-0abc1234" in f.remediation[0]
    assert f.onset == "2026-03-03T14:00:00Z"


@pytest.mark.parametrize("permissions, settings_port, expected", [
    # the checked port is the second rule of the revoke
    ([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}], "443", True),
    # all traffic
    ([{"ipProtocol": "-1"}], "443", True),
    # a range that holds the port, with the SDK's spelling
    ([{"IpProtocol": "tcp", "FromPort": 400, "ToPort": 500}], "443", True),
    # no Port in the settings: an HTTPS check uses 443
    ([{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}], None, True),
    ([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}], "443", False),
])
def test_the_port_comparison_reads_every_rule(permissions, settings_port, expected):
    detail = json.loads(REVOKE["detail"])
    detail["params"]["ipPermissions"] = {"items": permissions}
    revoke = {**REVOKE, "detail": json.dumps(detail)}
    settings = R53_SETTINGS if settings_port else R53_SETTINGS[R53_SETTINGS["setting"] != "Port"]
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), changes=change_rows([revoke]), settings=settings))
    assert f.evidence["change_port_matches_check"] is expected and f.evidence["checked_port"] == 443
    assert f.evidence["checked_port_from"] == ("settings" if settings_port else "the HTTPS default")
    assert ("Its rules cover TCP 443" in f.summary) is expected


def test_a_revoke_by_rule_id_leaves_the_port_unknown_not_false():
    detail = json.loads(REVOKE["detail"])
    detail["params"] = {"groupId": "sg-0abc1234", "securityGroupRuleIds": {"items": ["sgr-0123456789abcdef0"]}}
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), settings=R53_SETTINGS,
                                                       changes=change_rows([{**REVOKE, "detail": json.dumps(detail)}])))
    assert f.evidence["change_port_matches_check"] is None and "Which ports it touched is not in the record" in f.summary


def test_checkers_that_recovered_before_the_snapshot_still_count():
    """A GetHealthCheckStatus snapshot taken after the checks recovered: every checker is healthy now, and
    16 of them kept their last failure, inside the drop."""
    snap = pd.DataFrame({"health_check_id": HC_ID, "region": ["us-east-1", "eu-west-1"] * 8,
                         "checker_ip": [f"15.177.{i}.10" for i in range(16)], "checked_at": DROP + pd.Timedelta(minutes=70),
                         "status": "Success: HTTP Status Code 200, OK", "healthy": [True] * 16,
                         "last_failure": TIMEOUT, "last_failure_at": DROP + pd.Timedelta(minutes=20)})
    c = hc.checker_failures({"route53_checkers": snap}, HC_ID)
    assert (c["checkers"], c["checkers_failed"], c["failed_observations"], c["failing"]) == (16, 16, 16, 0)
    during = hc.checker_failures({"route53_checkers": snap}, HC_ID, start=DROP, end=DROP + pd.Timedelta(hours=1))
    assert (during["checkers_failed"], during["failing"]) == (16, 16), "inside the drop their latest word was a failure"
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), changes=change_rows([REVOKE]),
                                                       settings=R53_SETTINGS, health={"route53_checkers": snap}))
    assert f.evidence["checkers_reporting_failure"] == 16 and f.evidence["failed_checker_observations"] == 16
    assert "16 of 16 checkers reported a failure (16 failed observations), 100% of them timeouts" in f.summary
    text = snap.assign(healthy=["false"] * 16)  # another tool's text booleans
    assert hc.checker_failures({"route53_checkers": text}, HC_ID)["checkers_failed"] == 16


def test_no_failover_is_claimed_without_traffic_that_moved():
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert "failover" not in f.summary.lower() and "where it went is not in the metrics read" in f.summary
    no_traffic = route53_window()
    no_traffic = no_traffic[no_traffic["metric_name"] != "RequestCount"]
    g = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=no_traffic, changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert "failover" not in g.summary.lower()
    records = pd.DataFrame({"resource_type": "AWS::Route53::RecordSet", "resource_id": "Z1/api./A/primary",
                            "setting": ["Failover", "HealthCheckId"], "value": ["PRIMARY", HC_ID]})
    h = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=no_traffic, changes=change_rows([REVOKE]),
                                                       settings=pd.concat([R53_SETTINGS, records], ignore_index=True)))
    assert "A primary failover record uses this check" in h.summary and "do not show where traffic went" in h.summary


def test_flapping_durations_carry_their_resolution():
    m, health, change = per_instance_fleet()
    f = hc.detect_health_check_flapping(Inputs(metrics=m, settings=tg_settings(), health=health))
    assert f.evidence["episode_resolution_s"] == 60 and f.evidence["median_unhealthy_spell_s"] == 50
    assert "1-minute UnHealthyHostCount datapoints" in f.summary and "median of 50 s" in f.summary
    without = hc.detect_health_check_flapping(Inputs(metrics=m, settings=tg_settings()))
    assert f"the median episode lasted at most {without.evidence['median_episode_s'] / 60:.0f} min (1-minute datapoints" in without.summary
    assert "median_unhealthy_spell_s" not in without.evidence
    # a spike over one 1-minute datapoint proves nothing about its length: the 30 s floor judges the check
    assert "is shorter than 30 s" in without.summary and without.evidence["check_tolerance_floor_s"] == 30


def test_blocked_by_change_ranks_first_with_detect():
    inputs = Inputs(metrics=route53_window(), changes=change_rows([DEPLOY, REVOKE]), settings=R53_SETTINGS,
                    health={"route53_checkers": CHECKERS})
    got = findings.detect(inputs)
    assert got.top is not None and got.top.id == "healthcheck-blocked-by-change", got.to_frame()


def test_no_finding_when_the_service_really_failed_or_checkers_got_http_errors():
    inputs = Inputs(metrics=route53_window(failing_service=True), changes=change_rows([REVOKE]))
    assert hc.detect_healthcheck_blocked_by_change(inputs) is None
    http = CHECKERS.assign(status="Failure: HTTP Status Code 503, Service Unavailable")
    inputs = Inputs(metrics=route53_window(), changes=change_rows([REVOKE]), health={"route53_checkers": http})
    assert hc.detect_healthcheck_blocked_by_change(inputs) is None


def test_drop_without_a_change_stays_low_and_steady_checks_raise_nothing():
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), changes=change_rows([DEPLOY])))
    assert f is not None and f.severity == "low" and f.confidence <= 0.35
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), health={"route53_checkers": CHECKERS}))
    assert f.severity == "medium"
    steady = Inputs(metrics=route53_window(drop=False), changes=change_rows([REVOKE]), settings=R53_SETTINGS)
    assert hc.detect_healthcheck_blocked_by_change(steady) is None


def test_a_failed_or_old_change_is_not_the_cause():
    failed = {**REVOKE, "error_code": "InvalidPermission.NotFound"}
    old = {**REVOKE, "timestamp": DROP - pd.Timedelta(hours=5)}
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=route53_window(), changes=change_rows([failed, old])))
    assert f is not None and f.severity == "low" and not f.related_changes


def test_blocked_by_change_edge_cases():
    assert hc.detect_healthcheck_blocked_by_change(Inputs()) is None
    assert hc.detect_healthcheck_blocked_by_change(Inputs(metrics=pd.DataFrame(), changes=change_rows([REVOKE]))) is None
    out = hc.route53_drops(None)
    assert out.empty and list(out.columns) == list(hc.DROP_COLUMNS)


def test_failover_secondary_errors_do_not_count_against_a_healthy_primary():
    """Both regions' load balancers in the metrics: after the failover the secondary overloads (5XX),
    the primary goes quiet (no RequestCount datapoints at all: CloudWatch skips empty minutes)."""
    start = DROP - pd.Timedelta(hours=2)
    n = 180
    primary, secondary = "app/api-use1/2b3c4d5e6f708192", "app/api-usw2/7e6d5c4b3a291807"
    rng = np.random.default_rng(3)
    req_p = rng.normal(5000, 50, 120)  # primary: traffic until the drop, then nothing published
    req_s = np.concatenate([rng.normal(20, 3, 120), rng.normal(5000, 50, 60)])
    err_s = np.concatenate([rng.poisson(0.1, 121), np.full(59, 900.0)])  # the secondary fails under the load
    r53 = {"HealthCheckId": HC_ID}
    m = pd.concat([
        metric("HealthCheckStatus", np.where(np.arange(n) >= 120, 0.0, 1.0), start=start, dims=r53, stat="Minimum", ns="AWS/Route53"),
        metric("RequestCount", req_p, start=start, dims={"LoadBalancer": primary}),
        metric("HTTPCode_ELB_5XX_Count", rng.poisson(3, 120), start=start, dims={"LoadBalancer": primary}),
        metric("RequestCount", req_s, start=start, dims={"LoadBalancer": secondary}),
        metric("HTTPCode_ELB_5XX_Count", err_s, start=start, dims={"LoadBalancer": secondary}),
    ], ignore_index=True)
    shift = hc.traffic_by_load_balancer(m, DROP)
    assert shift["load_balancer"].tolist() == [primary, secondary]
    assert shift.loc[0, "after_per_min"] == 0 and shift.loc[1, "ratio"] > 100
    mixed = hc.service_signals(m, DROP).set_index("signal")
    assert not bool(mixed.loc["error_rate", "healthy"])  # both regions together look sick...
    own = hc.service_signals(m, DROP, load_balancer=primary).set_index("signal")
    assert bool(own.loc["error_rate", "healthy"])  # ...the primary alone did not
    f = hc.detect_healthcheck_blocked_by_change(Inputs(metrics=m, changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert f is not None and f.severity == "high"
    assert f.evidence["primary_load_balancer"] == primary and f.evidence["traffic_moved_to"] == secondary
    assert "Traffic moved" in f.summary


def per_instance_fleet(*, marks_on_spiking_instance=True, seed=11):
    """Four instances, each with its own CPU spikes every ~7 minutes; target health marks an instance
    unhealthy in its spike minute (or, as a control, marks a different instance)."""
    rng = np.random.default_rng(seed)
    n, ids = 120, ["i-0a", "i-0b", "i-0c", "i-0d"]
    parts, obs, unhealthy = [], [], np.zeros(n)
    for k, iid in enumerate(ids):
        cpu = rng.normal(22, 2, n)
        spikes = np.arange(3 + k, n, 7)
        cpu[spikes] = 98.0
        parts.append(metric("CPUUtilization", cpu, dims={"InstanceId": iid}, stat="Maximum", ns="AWS/EC2"))
        for i in spikes[::2]:
            target = iid if marks_on_spiking_instance else ids[(k + 2) % 4]
            t = T0 + pd.Timedelta(minutes=int(i), seconds=20)
            obs += [{"timestamp": t, "target_group_arn": TG_ARN, "target_id": target, "state": "unhealthy",
                     "reason": "Target.Timeout", "description": "Request timed out"},
                    {"timestamp": t + pd.Timedelta(seconds=50), "target_group_arn": TG_ARN, "target_id": target,
                     "state": "healthy", "reason": None, "description": None}]
            unhealthy[i] += 1
    m = pd.concat(parts + [metric("UnHealthyHostCount", unhealthy, stat="Maximum"),
                           metric("RequestCount", np.full(n, 3000.0))], ignore_index=True)
    health = {"target_health": pd.DataFrame(obs)}
    change = change_rows([{"timestamp": T0 - pd.Timedelta(minutes=3), "event_name": "ModifyTargetGroup", "class": "CONFIG_CHANGE",
                           "actor": "arn:aws:iam::123456789012:user/sre", "resource": TG_ARN}])
    return m, health, change


def test_target_transitions_and_per_target_spike_alignment():
    m, health, change = per_instance_fleet()
    marks = hc.target_transitions(health)
    assert list(marks.columns) == list(hc.TRANSITION_COLUMNS)
    assert len(marks) == len(health["target_health"]) // 2
    spikes = hc.transient_spikes(m, "cpu")
    assert set(spikes["resource"]) == {"i-0a", "i-0b", "i-0c", "i-0d"}  # each instance against its own baseline
    f = hc.detect_health_check_flapping(Inputs(metrics=m, settings=tg_settings(), health=health, changes=change))
    assert f is not None
    assert f.evidence["spike_alignment"] == "per target"
    assert f.evidence["episodes_with_spike"] == 1.0 and f.evidence["chance_of_spike"] < 0.4
    assert [c["event_name"] for c in f.related_changes] == ["ModifyTargetGroup"]
    assert "The health check of `web` was changed (ModifyTargetGroup) at 09:57 UTC by an IAM user" in f.summary
    # control: the same marks pinned on instances that were not spiking at the time
    m2, health2, _ = per_instance_fleet(marks_on_spiking_instance=False)
    g = hc.detect_health_check_flapping(Inputs(metrics=m2, settings=tg_settings(), health=health2))
    assert g.evidence["episodes_with_spike"] < 0.2 and g.confidence < f.confidence


@pytest.mark.parametrize("case", sorted(ODD_INPUTS))
def test_detectors_survive_odd_frames(case):
    assert_detectors_survive((hc.detect_health_check_flapping, hc.detect_healthcheck_blocked_by_change), ODD_INPUTS[case])


def test_public_names_are_pinned():
    assert sorted(hc.__all__) == ['CHECK_TOLERANCE_FLOOR_S', 'DROP_COLUMNS', 'EPISODE_COLUMNS', 'HEALTHCHECK_BLOCKED_CHANGES',
                                  'HEALTH_CHECK_FLAPPING_CHANGES', 'SERVICE_COLUMNS', 'SPIKE_COLUMNS', 'TIMING_COLUMNS',
                                  'TRANSITION_COLUMNS', 'check_timing', 'checker_failures', 'detect_health_check_flapping',
                                  'detect_healthcheck_blocked_by_change', 'route53_drops', 'service_signals', 'target_transitions',
                                  'traffic_by_load_balancer', 'transient_spikes', 'unhealthy_episodes', 'unhealthy_spells']
    for name in hc.__all__:
        assert hasattr(hc, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(hc, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
