"""The ``healthcheck-blocked-by-change`` detector (:mod:`incidentkit.findings.detectors.healthcheck_blocked_by_change`): when it fires, when it stays silent."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
from incidentkit import findings
from incidentkit.analyses import healthchecks as hc
from incidentkit.findings import Inputs
from _helpers.healthchecks_cases import change_rows, CHECKERS, DROP, HC_ID, TIMEOUT, metric, route53_window
from incidentkit.findings.detectors import healthcheck_blocked_by_change


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


def test_detect_blocked_by_change_incident3():
    inputs = Inputs(metrics=route53_window(), changes=change_rows([DEPLOY, REVOKE]), settings=R53_SETTINGS,
                    health={"route53_checkers": CHECKERS})
    f = healthcheck_blocked_by_change.detect(inputs)
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
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), changes=change_rows([revoke]), settings=settings))
    assert f.evidence["change_port_matches_check"] is expected and f.evidence["checked_port"] == 443
    assert f.evidence["checked_port_from"] == ("settings" if settings_port else "the HTTPS default")
    assert ("Its rules cover TCP 443" in f.summary) is expected


def test_a_revoke_by_rule_id_leaves_the_port_unknown_not_false():
    detail = json.loads(REVOKE["detail"])
    detail["params"] = {"groupId": "sg-0abc1234", "securityGroupRuleIds": {"items": ["sgr-0123456789abcdef0"]}}
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), settings=R53_SETTINGS,
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
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), changes=change_rows([REVOKE]),
                                                       settings=R53_SETTINGS, health={"route53_checkers": snap}))
    assert f.evidence["checkers_reporting_failure"] == 16 and f.evidence["failed_checker_observations"] == 16
    assert "16 of 16 checkers reported a failure (16 failed observations), 100% of them timeouts" in f.summary
    text = snap.assign(healthy=["false"] * 16)  # another tool's text booleans
    assert hc.checker_failures({"route53_checkers": text}, HC_ID)["checkers_failed"] == 16


def test_no_failover_is_claimed_without_traffic_that_moved():
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert "failover" not in f.summary.lower() and "where it went is not in the metrics read" in f.summary
    no_traffic = route53_window()
    no_traffic = no_traffic[no_traffic["metric_name"] != "RequestCount"]
    g = healthcheck_blocked_by_change.detect(Inputs(metrics=no_traffic, changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert "failover" not in g.summary.lower()
    records = pd.DataFrame({"resource_type": "AWS::Route53::RecordSet", "resource_id": "Z1/api./A/primary",
                            "setting": ["Failover", "HealthCheckId"], "value": ["PRIMARY", HC_ID]})
    h = healthcheck_blocked_by_change.detect(Inputs(metrics=no_traffic, changes=change_rows([REVOKE]),
                                                       settings=pd.concat([R53_SETTINGS, records], ignore_index=True)))
    assert "A primary failover record uses this check" in h.summary and "do not show where traffic went" in h.summary


def test_blocked_by_change_ranks_first_with_detect():
    inputs = Inputs(metrics=route53_window(), changes=change_rows([DEPLOY, REVOKE]), settings=R53_SETTINGS,
                    health={"route53_checkers": CHECKERS})
    got = findings.detect(inputs)
    assert got.top is not None and got.top.id == "healthcheck-blocked-by-change", got.to_frame()


def test_no_finding_when_the_service_really_failed_or_checkers_got_http_errors():
    inputs = Inputs(metrics=route53_window(failing_service=True), changes=change_rows([REVOKE]))
    assert healthcheck_blocked_by_change.detect(inputs) is None
    http = CHECKERS.assign(status="Failure: HTTP Status Code 503, Service Unavailable")
    inputs = Inputs(metrics=route53_window(), changes=change_rows([REVOKE]), health={"route53_checkers": http})
    assert healthcheck_blocked_by_change.detect(inputs) is None


def test_drop_without_a_change_stays_low_and_steady_checks_raise_nothing():
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), changes=change_rows([DEPLOY])))
    assert f is not None and f.severity == "low" and f.confidence <= 0.35
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), health={"route53_checkers": CHECKERS}))
    assert f.severity == "medium"
    steady = Inputs(metrics=route53_window(drop=False), changes=change_rows([REVOKE]), settings=R53_SETTINGS)
    assert healthcheck_blocked_by_change.detect(steady) is None


def test_a_failed_or_old_change_is_not_the_cause():
    failed = {**REVOKE, "error_code": "InvalidPermission.NotFound"}
    old = {**REVOKE, "timestamp": DROP - pd.Timedelta(hours=5)}
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=route53_window(), changes=change_rows([failed, old])))
    assert f is not None and f.severity == "low" and not f.related_changes


def test_blocked_by_change_edge_cases():
    assert healthcheck_blocked_by_change.detect(Inputs()) is None
    assert healthcheck_blocked_by_change.detect(Inputs(metrics=pd.DataFrame(), changes=change_rows([REVOKE]))) is None
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
    f = healthcheck_blocked_by_change.detect(Inputs(metrics=m, changes=change_rows([REVOKE]), settings=R53_SETTINGS))
    assert f is not None and f.severity == "high"
    assert f.evidence["primary_load_balancer"] == primary and f.evidence["traffic_moved_to"] == secondary
    assert "Traffic moved" in f.summary
