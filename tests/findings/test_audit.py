"""Configuration audit: pure checks on settings frames, and end to end against moto."""

from __future__ import annotations

import ipaddress
import json

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings as hsettings, strategies as st
from moto import mock_aws

from incidentkit import audit_run
from incidentkit.findings import audit
from incidentkit.fetch import aws, health
from incidentkit.errors import ParameterError

from _helpers.aws_stack import REGIONS, TIMEOUT, canned, make_health_check, make_table, make_vpc, make_web_stack, observations

TG = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef"


def frame(rows: dict[tuple[str, str], dict[str, object]]) -> pd.DataFrame:
    """A settings frame from {(resource_type, resource_id): {setting: value}}."""
    out = []
    for (rtype, rid), values in rows.items():
        for name, value in values.items():
            text = json.dumps(value) if isinstance(value, (list, dict)) else (None if value is None else str(value))
            out.append({"timestamp": pd.Timestamp("2026-03-01", tz="UTC"), "resource_type": rtype, "resource_id": rid,
                        "setting": name, "value": text})
    return pd.DataFrame(out)


def tg(interval=30, timeout=5, unhealthy=2, healthy=5, delay=300, enabled="true", rid=TG):
    return {("target_group", rid): {"HealthCheckIntervalSeconds": interval, "HealthCheckTimeoutSeconds": timeout,
                                    "UnhealthyThresholdCount": unhealthy, "HealthyThresholdCount": healthy,
                                    "HealthCheckEnabled": enabled, "deregistration_delay.timeout_seconds": delay}}


def ids(results):
    return [(r.check_id, r.severity) for r in results]


# --------------------------------------------------------------------------------------------
# target-group health checks
# --------------------------------------------------------------------------------------------


def test_incident6_health_check_5s_2s_is_too_tight_with_concrete_fix():
    res = audit.check_target_group_health_checks(frame(tg(interval=5, timeout=2, unhealthy=2, healthy=2)))
    assert ids(res) == [("tg-health-check-too-tight", "high")]
    r = res[0]
    assert r.evidence["seconds_to_unhealthy"] == 10
    assert r.finding_id == "health-check-flapping"
    assert "HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5, UnhealthyThresholdCount=3" in r.remediation[0]
    assert "needs 30 s of failed checks (now 10 s)" in r.remediation[0]
    assert r.remediation[1].startswith(f"aws elbv2 modify-target-group --target-group-arn {TG} --health-check-interval-seconds 10")


def test_aws_default_health_check_is_not_flagged():
    s = frame(tg(interval=30, timeout=5, unhealthy=2))
    assert audit.check_target_group_health_checks(s, observed={"p99_ms": 850}) == []
    assert audit.audit_settings(s, observed={"p99_ms": 850, "p999_ms": 4000, "max_ms": 9000}) == []


def test_timeout_below_observed_p99_is_flagged_and_fix_raises_it_above_p99():
    res = audit.check_target_group_health_checks(frame(tg(interval=30, timeout=5, unhealthy=3)), observed={"p99_ms": 6500})
    assert ids(res) == [("tg-health-check-timeout-below-p99", "high")]
    assert res[0].evidence["observed_p99_ms"] == 6500
    assert "HealthCheckTimeoutSeconds=13" in res[0].remediation[0]  # 2 x p99, still below the 30 s interval


def test_twenty_seconds_to_unhealthy_is_only_a_low_note():
    assert ids(audit.check_target_group_health_checks(frame(tg(interval=10, unhealthy=2)))) == [("tg-health-check-too-tight", "low")]


def test_two_second_timeout_without_observations_is_a_low_note():
    assert ids(audit.check_target_group_health_checks(frame(tg(interval=30, timeout=2, unhealthy=2)))) == [
        ("tg-health-check-timeout-below-p99", "low")]


def test_disabled_health_check_and_per_resource_observations():
    other = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/fedcba9876543210"
    s = frame({**tg(interval=5, unhealthy=2, enabled="false"), **tg(interval=30, timeout=5, unhealthy=2, rid=other)})
    # the global p99 is fine; the api target group's own p99 is not
    res = audit.check_target_group_health_checks(s, observed={"p99_ms": 300, other: {"p99_ms": 7000}})
    assert [(r.check_id, r.resource) for r in res] == [("tg-health-check-timeout-below-p99", other)]


def test_observed_can_be_a_requests_frame():
    lat = pd.DataFrame({"latency_ms": [100.0] * 980 + [9000.0] * 20})
    res = audit.check_target_group_health_checks(frame(tg(interval=30, timeout=5, unhealthy=2)), observed=lat)
    assert ids(res) == [("tg-health-check-timeout-below-p99", "high")]
    assert res[0].evidence["observed_p99_ms"] == 9000.0
    with pytest.raises(ParameterError, match="latency_ms"):
        audit.check_target_group_health_checks(frame(tg()), observed=pd.DataFrame({"x": [1]}))


@hsettings(max_examples=200, deadline=None)
@given(interval=st.integers(5, 300), timeout=st.integers(2, 120), unhealthy=st.integers(2, 10),
       p99=st.one_of(st.none(), st.floats(0.001, 50)))
def test_recommended_health_check_is_valid_and_tolerant(interval, timeout, unhealthy, p99):
    ni, nt, nu = audit._recommend_health_check(interval, min(timeout, interval - 1) if interval > 2 else 2, unhealthy, p99)
    assert 5 <= ni <= 300 and 2 <= nt <= 120 and 2 <= nu <= 10  # AWS's ranges
    assert nt < ni  # ALB requires timeout < interval
    assert ni * nu >= audit.COMFORTABLE_SECONDS_TO_UNHEALTHY
    if p99 is not None and 2 * p99 <= 120:
        assert nt >= 2 * p99 - 1e-9


# --------------------------------------------------------------------------------------------
# deregistration delay
# --------------------------------------------------------------------------------------------


def test_incident10_deregistration_30s_vs_60s_requests():
    res = audit.check_deregistration_delay(frame(tg(delay=30)), observed={"p999_ms": 58_000, "max_ms": 61_000})
    assert ids(res) == [("deregistration-delay-too-short", "high")]
    r = res[0]
    assert r.evidence == {"deregistration_delay_s": 30.0, "observed_p999_s": 58.0, "observed_max_s": 61.0}
    assert "Key=deregistration_delay.timeout_seconds,Value=87" in r.remediation[1]  # 1.5 x p99.9
    assert "Set deregistration_delay.timeout_seconds to 87" in r.remediation[0]


@pytest.mark.parametrize(
    "delay, obs, expected",
    [
        (300, {"p999_ms": 58_000, "max_ms": 61_000}, []),
        (30, {"p999_ms": 20_000, "max_ms": 45_000}, [("deregistration-delay-too-short", "medium")]),
        (30, {"max_duration_ms": 45_000}, [("deregistration-delay-too-short", "medium")]),
        (30, None, [("deregistration-delay-too-short", "info")]),
    ],
)
def test_deregistration_delay_cases(delay, obs, expected):
    assert ids(audit.check_deregistration_delay(frame(tg(delay=delay)), observed=obs)) == expected


# --------------------------------------------------------------------------------------------
# Lambda provisioned concurrency
# --------------------------------------------------------------------------------------------


def fn(name="api", pce=0, reserved=None, snapstart=None):
    values = {"ProvisionedConcurrentExecutions": pce, "ReservedConcurrentExecutions": reserved, "Timeout": 29}
    if snapstart:
        values["SnapStart.ApplyOn"] = snapstart
    return {("lambda_function", name): values}


@pytest.mark.parametrize(
    "settings_rows, obs, expected",
    [
        (fn(), None, [("lambda-no-provisioned-concurrency", "medium")]),
        (fn(), {"init_p99_ms": 2300}, [("lambda-no-provisioned-concurrency", "high")]),
        (fn(), {"init_p99_ms": 400}, [("lambda-no-provisioned-concurrency", "medium")]),
        (fn(snapstart="PublishedVersions"), {"init_p99_ms": 2300}, [("lambda-no-provisioned-concurrency", "low")]),
        (fn(pce=20), {"init_p99_ms": 2300}, []),
    ],
)
def test_lambda_provisioned_concurrency(settings_rows, obs, expected):
    assert ids(audit.check_lambda_provisioned_concurrency(frame(settings_rows), obs)) == expected


def test_lambda_fix_sizes_provisioned_concurrency_from_peak_and_reserved():
    res = audit.check_lambda_provisioned_concurrency(frame(fn()), {"peak_concurrency": 40})
    assert "--provisioned-concurrent-executions 44" in res[0].remediation[1]
    res = audit.check_lambda_provisioned_concurrency(frame(fn(reserved=30)), {"peak_concurrency": 40})
    assert "--provisioned-concurrent-executions 30" in res[0].remediation[1]
    assert res[0].evidence["reserved_concurrent_executions"] == 30


def test_lambda_latency_sensitive_filter_and_not_collected():
    s = frame({**fn("api"), **fn("nightly-batch"), ("lambda_function", "unknown"): {"Timeout": 3}})
    res = audit.check_lambda_provisioned_concurrency(s, latency_sensitive=["api", "unknown"])
    assert sorted((r.check_id, r.resource, r.severity) for r in res) == [
        ("lambda-no-provisioned-concurrency", "api", "medium"), ("not-checked", "unknown", "info")]


# --------------------------------------------------------------------------------------------
# DynamoDB autoscaling
# --------------------------------------------------------------------------------------------


def table(name="orders", billing="PROVISIONED", scaling=None, rcu=5, wcu=10):
    return {("dynamodb_table", name): {"BillingMode": billing, "ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu,
                                       "autoscaling": scaling if scaling is not None else {}}}


def test_dynamodb_without_autoscaling_gets_commands_for_both_dimensions():
    res = audit.check_dynamodb_autoscaling(frame(table()))
    assert ids(res) == [("dynamodb-no-autoscaling", "medium")]
    r = res[0]
    assert r.evidence["missing"] == "read,write"
    text = "\n".join(r.remediation)
    assert "--resource-id table/orders --scalable-dimension dynamodb:table:ReadCapacityUnits --min-capacity 5 --max-capacity 100" in text
    assert "dynamodb:table:WriteCapacityUnits --min-capacity 10 --max-capacity 100" in text
    assert "DynamoDBWriteCapacityUtilization" in text and "PAY_PER_REQUEST" in text and "backoff" in text
    assert r.finding_id == "throttling-without-backoff"


@pytest.mark.parametrize(
    "rows, obs, expected",
    [
        (table(billing="PAY_PER_REQUEST"), None, []),
        (table(scaling={"read": {"MinCapacity": 5}, "write": {"MinCapacity": 10}}), None, []),
        (table(scaling={"read": {"MinCapacity": 5}}), {"write_throttle_events": 1200}, [("dynamodb-no-autoscaling", "high")]),
        (table(scaling={"read": {"MinCapacity": 5}}), {"read_throttle_events": 30}, [("dynamodb-no-autoscaling", "medium")]),
        ({("dynamodb_index", "table/orders/index/by-day"): {"BillingMode": "PROVISIONED", "ReadCapacityUnits": 3,
                                                            "WriteCapacityUnits": 3, "autoscaling": {}}}, None,
         [("dynamodb-no-autoscaling", "medium")]),
        ({("dynamodb_table", "orders"): {"BillingMode": "PROVISIONED", "ReadCapacityUnits": 5}}, None, [("not-checked", "info")]),
    ],
)
def test_dynamodb_cases(rows, obs, expected):
    assert ids(audit.check_dynamodb_autoscaling(frame(rows), obs)) == expected


def test_dynamodb_index_commands_use_the_index_dimension():
    rows = {("dynamodb_index", "table/orders/index/by-day"): {"BillingMode": "PROVISIONED", "ReadCapacityUnits": 3,
                                                              "WriteCapacityUnits": 3, "autoscaling": {}}}
    text = "\n".join(audit.check_dynamodb_autoscaling(frame(rows))[0].remediation)
    assert "--resource-id table/orders/index/by-day --scalable-dimension dynamodb:index:ReadCapacityUnits" in text
    assert "update-table" not in text  # billing mode is a table setting


# --------------------------------------------------------------------------------------------
# security groups vs Route 53 health checkers
# --------------------------------------------------------------------------------------------

RANGES = audit.load_ip_ranges()


def rule(cidrs, port=443, to_port=None, proto="tcp", v6=False, prefix_lists=()):
    r = {"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [{"PrefixListId": p} for p in prefix_lists],
         "UserIdGroupPairs": []}
    if proto != "-1":
        r["FromPort"], r["ToPort"] = port, to_port if to_port is not None else port
    key, field = ("Ipv6Ranges", "CidrIpv6") if v6 else ("IpRanges", "CidrIp")
    r[key] = [{field: c} for c in cidrs]
    return r


def checker_cidrs(regions=audit.DEFAULT_CHECKER_REGIONS, *, v6=False, with_global=True):
    return [str(n) for n, r in RANGES.for_regions(regions, v6=v6) if with_global or r != "GLOBAL"]


def sg_and_check(groups: dict[str, list[dict]], **check):
    cfg = {"Type": "HTTPS", "IPAddress": "203.0.113.10", "Port": 443, "Regions": [], **check}
    rows = {("route53_health_check", "hc-1"): cfg}
    for gid, perms in groups.items():
        rows[("security_group", gid)] = {"IpPermissions": perms}
    return frame(rows)


def test_incident3_private_only_rule_blocks_every_checker():
    res = audit.check_route53_access(sg_and_check({"sg-web": [rule(["10.0.0.0/8"])]}))
    assert ids(res) == [("sg-blocks-route53-checkers", "high")]
    r = res[0]
    assert r.evidence["blocked_regions"] == 8 and r.evidence["checker_regions"] == 8 and r.evidence["port"] == 443
    assert r.evidence["ip_ranges_date"] == "2024-09-13-20-53-11"
    assert r.finding_id == "healthcheck-blocked-by-change"
    assert "aws ec2 authorize-security-group-ingress --group-id sg-web" in r.remediation[1]
    assert "FromPort=443,ToPort=443" in r.remediation[1] and "15.177.0.0/18" in r.remediation[1]
    assert "route53-healthchecks" in r.remediation[2]


def test_rules_allowing_every_checker_range_pass():
    assert audit.check_route53_access(sg_and_check({"sg-web": [rule(checker_cidrs())]})) == []
    assert audit.check_route53_access(sg_and_check({"sg-web": [rule(["0.0.0.0/0"], proto="-1")]})) == []
    assert audit.check_route53_access(sg_and_check({"sg-web": [rule(["0.0.0.0/0"], port=0, to_port=65535)]})) == []


def test_security_groups_add_up():
    a = [rule(checker_cidrs(with_global=False))]
    b = [rule(["15.177.0.0/16"])]  # a supernet of the GLOBAL range
    assert audit.check_route53_access(sg_and_check({"sg-a": a, "sg-b": b})) == []
    assert ids(audit.check_route53_access(sg_and_check({"sg-a": a}))) == [("sg-blocks-route53-checkers", "medium")]


@pytest.mark.parametrize(
    "perms",
    [
        [rule(["0.0.0.0/0"], port=80, to_port=90)],  # wrong port
        [rule(["0.0.0.0/0"], proto="udp")],  # wrong protocol
        [rule(["0.0.0.0/0"], v6=True)],  # IPv6 rule for an IPv4 endpoint
        [],
    ],
)
def test_rules_that_do_not_match_port_protocol_or_family_block(perms):
    assert ids(audit.check_route53_access(sg_and_check({"sg-web": perms}))) == [("sg-blocks-route53-checkers", "high")]


def test_two_regions_blocked_is_medium_and_names_them():
    allowed = [c for c in checker_cidrs() if not any(c == str(n) for n, r in RANGES.ipv4 if r in ("eu-west-1", "sa-east-1"))]
    # with GLOBAL allowed those two regions are only partly blocked
    res = audit.check_route53_access(sg_and_check({"sg-web": [rule(allowed)]}))
    assert ids(res) == [("sg-blocks-route53-checkers", "medium")]
    assert res[0].evidence["partly_blocked_regions_text"] == "eu-west-1,sa-east-1"
    assert res[0].evidence["blocked_ranges"] == 4


def test_health_check_regions_narrow_what_is_required():
    regions = ["us-east-1", "eu-west-1", "ap-southeast-1"]
    s = sg_and_check({"sg-web": [rule(checker_cidrs(regions))]}, Regions=regions)
    assert audit.check_route53_access(s) == []
    s = sg_and_check({"sg-web": [rule(checker_cidrs(regions))]})  # default: all 8 regions
    assert ids(audit.check_route53_access(s)) == [("sg-blocks-route53-checkers", "medium")]


def test_ipv6_endpoint_needs_ipv6_rules():
    s = sg_and_check({"sg-web": [rule(checker_cidrs())]}, IPAddress="2001:db8::10")
    res = audit.check_route53_access(s)
    assert ids(res) == [("sg-blocks-route53-checkers", "high")] and res[0].evidence["ip_family"] == "IPv6"
    assert "Ipv6Ranges=" in res[0].remediation[1]
    s = sg_and_check({"sg-web": [rule(["::/0"], v6=True)]}, IPAddress="2001:db8::10")
    assert audit.check_route53_access(s) == []


def test_prefix_list_reference_lowers_to_low_and_default_ports():
    res = audit.check_route53_access(sg_and_check({"sg-web": [rule([], prefix_lists=["pl-0123"])]}))
    assert ids(res) == [("sg-blocks-route53-checkers", "low")]
    assert res[0].evidence["unresolved_prefix_lists"] == "pl-0123"
    # HTTP check without a Port uses 80
    s = sg_and_check({"sg-web": [rule(["0.0.0.0/0"], port=80)]}, Type="HTTP", Port=None)
    assert audit.check_route53_access(s) == []


def test_checks_without_endpoint_or_disabled_are_skipped():
    assert audit.check_route53_access(sg_and_check({"sg-web": [rule(["10.0.0.0/8"])]}, Type="CALCULATED")) == []
    assert audit.check_route53_access(sg_and_check({"sg-web": [rule(["10.0.0.0/8"])]}, Disabled=True)) == []


def test_shipped_ranges_match_the_documented_checker_ranges():
    r = audit.load_ip_ranges()
    assert (len(r.ipv4), len(r.ipv6)) == (23, 25)
    # the AWS Tools for PowerShell reference lists these from GetCheckerIpRanges
    documented = ["54.183.255.128/26", "54.228.16.0/26", "54.232.40.64/26", "54.241.32.64/26", "54.243.31.192/26",
                  "54.244.52.192/26", "54.245.168.0/26", "54.248.220.0/26", "54.250.253.192/26", "54.251.31.128/26",
                  "54.252.79.128/26", "54.252.254.192/26", "54.255.254.192/26", "107.23.255.0/26", "176.34.159.192/26",
                  "177.71.207.128/26"] + [f"15.177.{i}.0/23" for i in range(2, 63, 4)]
    nets = [n for n, _ in r.ipv4]
    for cidr in documented:
        assert any(ipaddress.IPv4Network(cidr).subnet_of(n) for n in nets), cidr
    assert {reg for _, reg in r.ipv4} >= set(audit.DEFAULT_CHECKER_REGIONS) | {"GLOBAL"}


def test_ip_ranges_from_file_url_and_dict(tmp_path):
    doc = {"syncToken": "1", "createDate": "2030-01-01-00-00-00",
           "prefixes": [{"ip_prefix": "198.51.100.0/24", "region": "GLOBAL", "service": "ROUTE53_HEALTHCHECKS"},
                        {"ip_prefix": "203.0.113.0/24", "region": "us-east-1", "service": "EC2"}],
           "ipv6_prefixes": []}
    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps(doc))
    for source in (str(path), path, path.as_uri(), doc):
        r = audit.load_ip_ranges(source)
        assert [str(n) for n, _ in r.ipv4] == ["198.51.100.0/24"] and r.create_date == "2030-01-01-00-00-00"
    s = sg_and_check({"sg-web": [rule(["198.51.100.0/24"])]})
    assert audit.check_route53_access(s, ip_ranges=str(path)) == []
    assert audit.check_route53_access(s) != []  # against the real ranges it blocks
    with pytest.raises(ParameterError, match="cannot read ip-ranges"):
        audit.load_ip_ranges(tmp_path / "missing.json")
    path.write_text(json.dumps({"prefixes": [{"ip_prefix": "1.2.3.0/24", "region": "x", "service": "S3"}]}))
    with pytest.raises(ParameterError, match="no ROUTE53_HEALTHCHECKS"):
        audit.load_ip_ranges(path)
    with pytest.raises(ParameterError, match="not an ip-ranges.json"):
        audit.load_ip_ranges({"hello": 1})


# --------------------------------------------------------------------------------------------
# results, output
# --------------------------------------------------------------------------------------------


def test_results_are_sorted_worst_first_and_render():
    s = frame({**tg(interval=5, timeout=2, unhealthy=2, delay=30), **table(), **fn()})
    res = audit.audit_settings(s, observed={"p999_ms": 58_000})
    sev = [r.severity for r in res]
    assert sev == sorted(sev, key=audit.SEVERITIES.index)
    assert {r.check_id for r in res} == {"tg-health-check-too-tight", "deregistration-delay-too-short",
                                         "dynamodb-no-autoscaling", "lambda-no-provisioned-concurrency"}
    text = audit.format_table(res)
    assert text.splitlines()[0].startswith("HIGH")
    assert "aws elbv2 modify-target-group" in text
    assert audit.exit_code(res) == 1 and audit.exit_code(res[2:], fail_on="high") == 0
    d = res[0].to_dict()
    assert json.loads(json.dumps(d))["finding_id"] in {"health-check-flapping", "deregistration-delay-too-short"}
    for r in res:
        assert all(isinstance(v, (int, float, str)) for v in r.evidence.values()), r.evidence


def test_audit_result_validates_severity_and_settings_frame():
    with pytest.raises(ValueError, match="severity"):
        audit.AuditResult("x", "r", "urgent", "s")
    with pytest.raises(ParameterError, match="lacks column"):
        audit.audit_settings(pd.DataFrame({"setting": ["a"]}))
    with pytest.raises(ParameterError, match="resources to read"):
        audit_run.run()


# --------------------------------------------------------------------------------------------
# run(): end to end against moto (+ Stubber for Lambda, canned Route 53 checker status)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def env():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _lambda_stub(monkeypatch, pce_configs):
    real = aws.client
    client = real("lambda", region="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("get_function", {"Configuration": {"FunctionName": "api", "Timeout": 29, "MemorySize": 512,
                                                            "State": "Active", "LastUpdateStatus": "Successful"}}, None)
    stubber.add_response("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": pce_configs}, None)
    stubber.add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000,
                                                                   "UnreservedConcurrentExecutions": 1000}}, None)
    monkeypatch.setattr(health.aws, "client", lambda service, **kw: client if service == "lambda" else real(service, **kw))
    return stubber


def test_run_flags_every_misconfiguration_of_the_incidents(env, monkeypatch):
    lb, tg_arn, _ = make_web_stack(env, interval=5, timeout=2, unhealthy=2, delay="30")
    make_table(env, "orders")
    ec2, vpc, *_ = make_vpc(env)
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[rule(["10.0.0.0/8"])])
    hc = make_health_check(env)
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations({r: TIMEOUT for r in REGIONS})})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    stubber = _lambda_stub(monkeypatch, [])
    with stubber:
        res = audit_run.run({"target_group_arn": tg_arn, "table_name": "orders", "function_name": "api",
                         "security_group_ids": sg, "health_check_id": hc},
                        observed={"p99_ms": 2500, "p999_ms": 58_000, "max_ms": 61_000, "init_p99_ms": 1800}, session=env)
    got = {(r.check_id, r.severity) for r in res}
    assert got == {("tg-health-check-too-tight", "high"), ("tg-health-check-timeout-below-p99", "high"),
                   ("deregistration-delay-too-short", "high"), ("lambda-no-provisioned-concurrency", "high"),
                   ("dynamodb-no-autoscaling", "medium"), ("sg-blocks-route53-checkers", "high")}
    assert {r.finding_id for r in res} == {"health-check-flapping", "deregistration-delay-too-short", "cold-start-tail",
                                           "throttling-without-backoff", "healthcheck-blocked-by-change"}


def test_run_on_a_sound_configuration_flags_nothing_medium_or_above(env, monkeypatch):
    lb, tg_arn, _ = make_web_stack(env, interval=15, timeout=5, unhealthy=3, delay="120")
    make_table(env, "events", billing="PAY_PER_REQUEST")
    ec2, vpc, *_ = make_vpc(env)
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[rule(checker_cidrs())])
    hc = make_health_check(env)
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations({r: TIMEOUT for r in REGIONS})})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    stubber = _lambda_stub(monkeypatch, [{"FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:api:live",
                                          "RequestedProvisionedConcurrentExecutions": 10,
                                          "AllocatedProvisionedConcurrentExecutions": 10,
                                          "AvailableProvisionedConcurrentExecutions": 10, "Status": "READY"}])
    with stubber:
        res = audit_run.run({"target_group_arn": tg_arn, "table_name": "events", "function_name": "api",
                         "security_group_ids": [sg], "health_check_id": hc},
                        observed={"p99_ms": 900, "p999_ms": 20_000, "max_ms": 45_000, "init_p99_ms": 1800}, session=env)
    assert [r for r in res if audit.SEVERITIES.index(r.severity) <= audit.SEVERITIES.index("medium")] == []


def test_run_on_a_settings_frame_makes_no_aws_call(env):
    lb, tg_arn, _ = make_web_stack(env, interval=5, timeout=2, unhealthy=2)
    snap = health.snapshot({"target_group_arn": tg_arn}, session=env, alarms=False)
    calls = []
    listener = lambda service, op, params: calls.append((service, op))  # noqa: E731
    aws.add_call_listener(listener)
    try:
        from_snap = audit_run.run(settings=snap)
        from_frame = audit_run.run(settings=snap.settings)
    finally:
        aws.remove_call_listener(listener)
    assert calls == []
    assert [r.check_id for r in from_snap] == [r.check_id for r in from_frame]
    assert "tg-health-check-too-tight" in {r.check_id for r in from_snap}


def test_run_reports_what_it_could_not_read(env):
    make_table(env, "orders")
    canned(env, "dynamodb", "DescribeTable", error=("AccessDeniedException", "not authorized to perform: dynamodb:DescribeTable"))
    res = audit_run.run({"table_name": "orders"}, session=env)
    assert [(r.check_id, r.severity) for r in res] == [("not-checked", "info")]
    assert res[0].summary.startswith("dynamodb_table orders: AccessDenied")


def test_sample_bundle_settings_with_cloudformation_type_names_are_audited() -> None:
    """Settings written with CloudFormation type names (as the samples and some exports do) are read too."""
    from incidentkit import samples

    smp = samples.load("health-check-flapping")
    assert smp.settings["resource_type"].str.startswith("AWS::").any()
    results = audit_run.run(settings=smp.settings)
    assert any(r.check_id == "tg-health-check-too-tight" and r.severity in ("high", "medium") for r in results), [
        (r.check_id, r.severity) for r in results
    ]
