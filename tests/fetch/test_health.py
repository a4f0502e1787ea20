"""Health snapshot: moto where it emulates, Stubber / canned responses where it does not."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from incidentkit.fetch import aws, health
from incidentkit import schema
from incidentkit.errors import AccessDeniedError, ParameterError
from _helpers.aws_stack import NOW, OK, REGIONS, TIMEOUT, canned, make_health_check, make_table, make_vpc, make_web_stack, observations


# --------------------------------------------------------------------------------------------
# helpers: canned responses for the calls moto does not emulate
# --------------------------------------------------------------------------------------------


@pytest.fixture
def env():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _row(snap, rtype, rid=None):
    s = snap.summary
    s = s[s["resource_type"] == rtype]
    if rid is not None:
        s = s[s["resource_id"] == rid]
    assert len(s) == 1, snap.summary.to_string()
    return s.iloc[0]


def _setting(snap, rtype, rid, name):
    s = snap.settings
    hit = s[(s["resource_type"] == rtype) & (s["resource_id"] == rid) & (s["setting"] == name)]
    assert len(hit) == 1, f"{name} not in settings"
    v = hit["value"].iloc[0]
    return None if pd.isna(v) else v


# --------------------------------------------------------------------------------------------
# ELB
# --------------------------------------------------------------------------------------------


def test_target_group_all_running_is_healthy_with_settings_named_as_aws(env):
    lb, tg, ids = make_web_stack(env, interval=10, timeout=4, unhealthy=3, delay="45")
    snap = health.snapshot({"target_group_arn": tg}, session=env, alarms=False)
    row = _row(snap, "target_group", tg)
    assert row["state"] == "healthy" and row["key_number"] == "3/3 healthy"
    t = snap.frames["targets"]
    assert sorted(t["target_id"]) == sorted(ids) and set(t["state"]) == {"healthy"}
    assert _setting(snap, "target_group", tg, "HealthCheckIntervalSeconds") == "10"
    assert _setting(snap, "target_group", tg, "HealthCheckTimeoutSeconds") == "4"
    assert _setting(snap, "target_group", tg, "UnhealthyThresholdCount") == "3"
    assert _setting(snap, "target_group", tg, "HealthyThresholdCount") == "3"
    assert _setting(snap, "target_group", tg, "deregistration_delay.timeout_seconds") == "45"
    assert list(snap.settings.columns) == list(schema.SETTING_COLUMNS)
    assert str(snap.settings["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert (snap.settings["timestamp"] == snap.collected_at).all()
    assert health.exit_code(snap.summary) == 0
    attrs = snap.frames["targets"].attrs
    assert attrs["source"] == "health.targets" and attrs["api_calls"] == 3 and attrs["complete"] is True


def test_stopped_targets_show_aws_reason_code_and_degrade(env):
    lb, tg, ids = make_web_stack(env, stop=1)
    snap = health.snapshot({"target_group_arn": tg}, session=env, alarms=False)
    row = _row(snap, "target_group", tg)
    assert row["state"] == "degraded"
    assert row["key_number"] == "2/3 healthy"
    assert "Target.InvalidState" in row["reason"]
    t = snap.frames["targets"].set_index("target_id")
    assert t.loc[ids[0], "state"] == "unused" and t.loc[ids[0], "reason"] == "Target.InvalidState"
    assert t.loc[ids[1], "state"] == "healthy"


def test_no_healthy_target_is_unhealthy_and_fails_the_exit_code(env):
    lb, tg, ids = make_web_stack(env, stop=3)
    snap = health.snapshot({"target_group_arn": tg}, session=env, alarms=False)
    assert _row(snap, "target_group", tg)["state"] == "unhealthy"
    assert health.exit_code(snap) == 1
    assert len(snap.unhealthy) == 1


def test_load_balancer_brings_its_target_groups_and_attributes(env):
    lb, tg, ids = make_web_stack(env)
    snap = health.snapshot({"load_balancer": "web"}, session=env, alarms=False)
    assert _row(snap, "load_balancer", lb)["state"] == "healthy"
    assert _row(snap, "target_group", tg)["state"] == "healthy"
    assert _setting(snap, "load_balancer", lb, "State.Code") == "active"
    assert _setting(snap, "load_balancer", lb, "deletion_protection.enabled") == "false"
    assert snap.frames["load_balancers"]["name"].tolist() == ["web"]


@pytest.mark.parametrize("form", ["arn", "dimension", "loadbalancer/dimension", "name"])
def test_every_documented_load_balancer_form_brings_its_settings_and_targets(env, form):
    lb, tg, ids = make_web_stack(env)
    suffix = lb.split(":loadbalancer/", 1)[1]
    value = {"arn": lb, "dimension": suffix, "loadbalancer/dimension": f"loadbalancer/{suffix}", "name": "web"}[form]
    snap = health.snapshot({"load_balancer": value}, session=env, alarms=False)
    assert _row(snap, "load_balancer", lb)["state"] == "healthy"
    assert _setting(snap, "load_balancer", lb, "deletion_protection.enabled") == "false"
    assert len(snap.frames["targets"]) == 3 and not snap.issues


@pytest.mark.parametrize("form", ["arn", "dimension", "name"])
def test_every_documented_target_group_form(env, form):
    lb, tg, ids = make_web_stack(env)
    value = {"arn": tg, "dimension": tg.split(":", 5)[-1], "name": "web"}[form]
    snap = health.snapshot({"target_group_arn": value, "load_balancer": lb}, session=env, alarms=False)
    assert _row(snap, "target_group", tg)["state"] == "healthy", "named once, collected once"
    assert _setting(snap, "target_group", tg, "deregistration_delay.timeout_seconds") == "300"


def test_a_load_balancer_form_with_another_id_is_not_found(env):
    lb, _, _ = make_web_stack(env)
    snap = health.snapshot({"load_balancer": "app/web/0000000000000000"}, session=env, alarms=False)
    row = _row(snap, "load_balancer", "app/web/0000000000000000")
    assert row["state"] == "unhealthy" and "another id" in row["reason"]


@pytest.mark.parametrize(
    "states, attached, expected",
    [
        ([("healthy", None)] * 3, True, "healthy"),
        ([("healthy", None), ("unhealthy", "Target.Timeout"), ("unhealthy", "Target.Timeout")], True, "degraded"),
        ([("unhealthy", "Target.ResponseCodeMismatch")] * 2, True, "unhealthy"),
        ([("initial", "Elb.InitialHealthChecking")] * 2, True, "degraded"),
        ([("draining", "Target.DeregistrationInProgress")], True, "unhealthy"),
        ([], True, "unhealthy"),
        ([("unused", "Target.NotInUse")], False, "unknown"),
        ([("unavailable", "Target.HealthCheckDisabled")], True, "healthy"),
    ],
)
def test_judge_targets(states, attached, expected):
    health_desc = [{"Target": {"Id": f"i-{n}"}, "TargetHealth": {"State": s, **({"Reason": r} if r else {})}} for n, (s, r) in enumerate(states)]
    state, reason, key = health._judge_targets(health_desc, attached)
    assert state == expected, reason


def test_timeout_reason_codes_are_counted_in_the_reason():
    desc = [{"Target": {"Id": "a"}, "TargetHealth": {"State": "unhealthy", "Reason": "Target.Timeout"}},
            {"Target": {"Id": "b"}, "TargetHealth": {"State": "unhealthy", "Reason": "Target.Timeout"}},
            {"Target": {"Id": "c"}, "TargetHealth": {"State": "unhealthy", "Reason": "Target.FailedHealthChecks"}},
            {"Target": {"Id": "d"}, "TargetHealth": {"State": "healthy"}}]
    state, reason, key = health._judge_targets(desc, True)
    assert (state, key) == ("degraded", "1/4 healthy")
    assert reason.index("Target.Timeout (2)") < reason.index("Target.FailedHealthChecks (1)")


# --------------------------------------------------------------------------------------------
# Route 53: health-check CRUD in moto, checker observations canned
# --------------------------------------------------------------------------------------------


def test_route53_checkers_all_failing_is_unhealthy_and_settings_are_read(env):
    hc = make_health_check(env)
    status = canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations({r: TIMEOUT for r in REGIONS})})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": observations({r: TIMEOUT for r in REGIONS})})
    snap = health.snapshot({"health_check_id": hc}, session=env, alarms=False)
    row = _row(snap, "route53_health_check", hc)
    assert row["state"] == "unhealthy"
    assert row["key_number"] == "0/8 checkers healthy"
    assert row["reason"].startswith("Failure: Connection timed out (8/8")
    assert status[0] == {"HealthCheckId": hc}
    assert _setting(snap, "route53_health_check", hc, "RequestInterval") == "10"
    assert _setting(snap, "route53_health_check", hc, "FailureThreshold") == "2"
    assert _setting(snap, "route53_health_check", hc, "IPAddress") == "203.0.113.10"
    assert _setting(snap, "route53_health_check", hc, "Port") == "443"
    f = snap.frames["route53_checkers"]
    assert len(f) == 8 and not f["healthy"].any() and not f["disagrees"].any()
    assert f["last_failure"].str.startswith("Failure").all()


def test_route53_minority_failing_checkers_disagree_and_degrade(env):
    hc = make_health_check(env, Type="HTTP", Port=80)
    statuses = {r: OK for r in REGIONS}
    statuses["eu-west-1"] = TIMEOUT
    statuses["sa-east-1"] = TIMEOUT
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations(statuses)})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    snap = health.snapshot({"health_check_id": hc}, session=env, alarms=False)
    row = _row(snap, "route53_health_check", hc)
    assert row["state"] == "degraded" and row["key_number"] == "6/8 checkers healthy"
    assert "eu-west-1" in row["reason"] and "sa-east-1" in row["reason"]
    f = snap.frames["route53_checkers"].set_index("region")
    assert f.loc["eu-west-1", "disagrees"] and not f.loc["us-east-1", "disagrees"]


def test_route53_18_percent_rule():
    # 2 of 16 checkers healthy (12.5 %) is unhealthy for Route 53; 3 of 16 (18.75 %) is healthy
    assert 2 / 16 <= health.ROUTE53_HEALTHY_SHARE < 3 / 16


def test_route53_one_of_eight_healthy_is_still_unhealthy(env):
    hc = make_health_check(env)
    statuses = {r: TIMEOUT for r in REGIONS}
    statuses["us-east-1"] = OK
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations(statuses)})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    snap = health.snapshot({"health_check_id": hc}, session=env, alarms=False)
    assert _row(snap, "route53_health_check", hc)["state"] == "unhealthy"
    f = snap.frames["route53_checkers"].set_index("region")
    assert f.loc["us-east-1", "disagrees"] and not f.loc["eu-west-1", "disagrees"]


# --------------------------------------------------------------------------------------------
# Lambda: Stubber (moto 404s provisioned concurrency)
# --------------------------------------------------------------------------------------------


def _stub_lambda(monkeypatch, responses):
    real = aws.client
    client = real("lambda", region="us-east-1")
    stubber = Stubber(client)
    for op, resp, params in responses:
        stubber.add_response(op, resp, params)

    def factory(service, **kw):
        return client if service == "lambda" else real(service, **kw)

    monkeypatch.setattr(health.aws, "client", factory)
    return stubber


def _fn(name="api", **extra):
    cfg = {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}", "Runtime": "python3.12",
           "Timeout": 29, "MemorySize": 1024, "State": "Active", "LastUpdateStatus": "Successful", "PackageType": "Zip",
           "LastModified": "2026-03-01T10:00:00.000+0000", **extra}
    return cfg


ACCOUNT = {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}, "AccountUsage": {}}


def test_lambda_provisioned_concurrency_and_account_limit(monkeypatch):
    pcs = {"ProvisionedConcurrencyConfigs": [
        {"FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:api:live", "RequestedProvisionedConcurrentExecutions": 20,
         "AvailableProvisionedConcurrentExecutions": 20, "AllocatedProvisionedConcurrentExecutions": 20, "Status": "READY",
         "LastModified": "2026-03-01T10:00:00+0000"}]}
    stubber = _stub_lambda(monkeypatch, [
        ("get_function", {"Configuration": _fn(), "Concurrency": {"ReservedConcurrentExecutions": 100}}, {"FunctionName": "api"}),
        ("list_provisioned_concurrency_configs", pcs, {"FunctionName": "api"}),
        ("get_account_settings", ACCOUNT, {}),
    ])
    with stubber:
        snap = health.snapshot({"function_name": "api"}, alarms=False)
    stubber.assert_no_pending_responses()
    row = _row(snap, "lambda_function", "api")
    assert row["state"] == "healthy"
    assert row["key_number"] == "reserved 100, provisioned 20/20, account unreserved 900/1000"
    assert _setting(snap, "lambda_function", "api", "ReservedConcurrentExecutions") == "100"
    assert _setting(snap, "lambda_function", "api", "ProvisionedConcurrentExecutions") == "20"
    assert _setting(snap, "lambda_function", "api", "Timeout") == "29"
    assert _setting(snap, "lambda_function", "api", "MemorySize") == "1024"
    f = snap.frames["lambda"].iloc[0]
    assert f["account_limit"] == 1000 and f["provisioned_available"] == 20
    assert snap.frames["lambda_provisioned"]["qualifier"].tolist() == ["live"]


def test_lambda_reserved_zero_is_unhealthy_and_unset_reserved_is_na(monkeypatch):
    stubber = _stub_lambda(monkeypatch, [
        ("get_function", {"Configuration": _fn("batch"), "Concurrency": {"ReservedConcurrentExecutions": 0}}, None),
        ("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": []}, None),
        ("get_account_settings", ACCOUNT, None),
        ("get_function", {"Configuration": _fn("api")}, None),
        ("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": []}, None),
    ])
    with stubber:
        snap = health.snapshot({"function_name": "batch,api"}, alarms=False)
    assert _row(snap, "lambda_function", "batch")["state"] == "unhealthy"
    assert "every invocation is throttled" in _row(snap, "lambda_function", "batch")["reason"]
    assert _row(snap, "lambda_function", "api")["state"] == "healthy"
    assert _setting(snap, "lambda_function", "api", "ReservedConcurrentExecutions") is None  # not set: NA
    assert _setting(snap, "lambda_function", "api", "ProvisionedConcurrentExecutions") == "0"
    assert health.exit_code(snap) == 1


def test_lambda_failed_update_and_provisioned_access_denied(monkeypatch):
    stubber = _stub_lambda(monkeypatch, [])
    stubber.add_response("get_function", {"Configuration": _fn(LastUpdateStatus="Failed", LastUpdateStatusReason="EniLimitExceeded")}, None)
    stubber.add_client_error("list_provisioned_concurrency_configs", "AccessDeniedException", "not authorized", 403)
    stubber.add_response("get_account_settings", ACCOUNT, None)
    with stubber:
        snap = health.snapshot({"function_name": "api"}, alarms=False)
    row = _row(snap, "lambda_function", "api")
    assert row["state"] == "degraded" and "EniLimitExceeded" in row["reason"]
    assert "provisioned concurrency not collected (AccessDenied)" in row["details"]
    # provisioned concurrency unknown: no setting row, so the audit says "not checked" rather than "none"
    s = snap.settings
    assert not ((s["resource_id"] == "api") & (s["setting"] == "ProvisionedConcurrentExecutions")).any()
    assert snap.frames["lambda"].attrs["complete"] is False


# --------------------------------------------------------------------------------------------
# DynamoDB, RDS, API Gateway, ECS (moto)
# --------------------------------------------------------------------------------------------


def test_dynamodb_capacity_and_autoscaling(env):
    make_table(env, "orders", gsi=True)
    make_table(env, "events", billing="PAY_PER_REQUEST")
    aas = env.client("application-autoscaling")
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/orders",
                                 ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=5, MaxCapacity=50)
    aas.put_scaling_policy(PolicyName="r", ServiceNamespace="dynamodb", ResourceId="table/orders",
                           ScalableDimension="dynamodb:table:ReadCapacityUnits", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={"TargetValue": 70.0, "PredefinedMetricSpecification":
                                                                     {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}})
    snap = health.snapshot({"table_name": ["orders", "events"]}, session=env, alarms=False)
    orders = _row(snap, "dynamodb_table", "orders")
    assert orders["state"] == "healthy"
    assert orders["key_number"] == "RCU 5, WCU 10, autoscaling read"
    assert _row(snap, "dynamodb_table", "events")["key_number"] == "on-demand"
    assert _setting(snap, "dynamodb_table", "orders", "BillingMode") == "PROVISIONED"
    assert _setting(snap, "dynamodb_table", "orders", "WriteCapacityUnits") == "10"
    assert json.loads(_setting(snap, "dynamodb_table", "orders", "autoscaling")) == {
        "read": {"MinCapacity": 5, "MaxCapacity": 50, "TargetValue": 70.0}}
    assert _setting(snap, "dynamodb_table", "events", "BillingMode") == "PAY_PER_REQUEST"
    assert _setting(snap, "dynamodb_index", "table/orders/index/by-sk", "autoscaling") == "{}"
    d = snap.frames["dynamodb"]
    assert set(d["kind"]) == {"table", "gsi"} and d.loc[d["kind"] == "gsi", "read_capacity"].iloc[0] == 3



def test_dynamodb_index_not_active_degrades_and_unread_autoscaling_is_a_note():
    """A GSI still CREATING degrades its table; autoscaling that may not be read is a note, never a guessed "none"."""
    c = health._Collector({}, pd.Timestamp.now(tz="UTC"))

    class FakeDynamoDB:
        def describe_table(self, **kw):
            return {"Table": {"TableName": kw["TableName"], "TableStatus": "ACTIVE",
                              "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 10},
                              "GlobalSecondaryIndexes": [{"IndexName": "by-sk", "IndexStatus": "CREATING",
                                                          "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 3}}],
                              "LocalSecondaryIndexes": [{"IndexName": "by-ts", "ItemCount": 7}]}}

    class DeniedAutoscaling:
        def describe_scalable_targets(self, **kw):
            raise AccessDeniedError("access denied (no application-autoscaling:DescribeScalableTargets)")

        describe_scaling_policies = describe_scalable_targets

    c.clients["dynamodb"], c.clients["application-autoscaling"] = FakeDynamoDB(), DeniedAutoscaling()
    health._collect_dynamodb(c, "orders")
    row = c.summary[0]
    assert (row["state"], row["reason"]) == ("degraded", "table ACTIVE; index by-sk CREATING")
    assert row["key_number"] == "RCU 5, WCU 10"
    assert "dynamodb orders autoscaling targets not collected (AccessDenied)" in row["details"]
    assert not [s for s in c.settings if s["setting"] == "autoscaling"]
    assert [(r["kind"], r["status"]) for r in c.rows["dynamodb"]] == [("table", "ACTIVE"), ("gsi", "CREATING"), ("lsi", "ACTIVE")]

def test_rds_status_max_connections_and_events(env):
    rds = env.client("rds")
    rds.create_db_parameter_group(DBParameterGroupName="pg", DBParameterGroupFamily="mysql8.0", Description="x")
    rds.modify_db_parameter_group(DBParameterGroupName="pg", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "{DBInstanceClassMemory/12582880}", "ApplyMethod": "immediate"}])
    rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.r6g.large", Engine="mysql", DBParameterGroupName="pg",
                           MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)
    pend = canned(env, "rds", "DescribePendingMaintenanceActions", {"PendingMaintenanceActions": [
        {"ResourceIdentifier": "arn:aws:rds:us-east-1:123456789012:db:db1", "PendingMaintenanceActionDetails": [
            {"Action": "system-update", "Description": "New Operating System update is available"}]}]})
    snap = health.snapshot({"db_instance": "db1"}, session=env, alarms=False)
    row = _row(snap, "rds_instance", "db1")
    assert row["state"] == "healthy"
    assert "pending maintenance: system-update" in row["reason"]
    assert row["key_number"] == "max_connections {DBInstanceClassMemory/12582880}"
    assert _setting(snap, "rds_instance", "db1", "max_connections") == "{DBInstanceClassMemory/12582880}"
    assert _setting(snap, "rds_instance", "db1", "DBInstanceClass") == "db.r6g.large"
    assert pend[0]["Filters"][0]["Name"] == "db-instance-id"
    assert "DB instance created" in set(snap.frames["rds_events"]["message"])


def test_rest_api_stage_throttling_and_method_overrides(env):
    apig = env.client("apigateway")
    api = apig.create_rest_api(name="shop")["id"]
    root = apig.get_resources(restApiId=api)["items"][0]["id"]
    apig.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apig.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apig.create_deployment(restApiId=api, stageName="prod")
    apig.create_deployment(restApiId=api, stageName="dev")
    apig.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"}])
    snap = health.snapshot({"api_id": api, "stage": "prod"}, session=env, alarms=False)
    row = _row(snap, "apigw_stage", f"{api}/prod")
    assert row["key_number"] == "rate 100/s, burst 50"
    assert row["state"] == "unknown"  # API Gateway has no health of its own
    assert _setting(snap, "apigw_stage", f"{api}/prod", "methodSettings.*/*.throttlingRateLimit") == "100"
    # without a stage every stage is read; dev has no limits -> the account default
    snap2 = health.snapshot({"api_id": api}, session=env, alarms=False)
    assert _row(snap2, "apigw_stage", f"{api}/dev")["key_number"] == "rate 10000/s, burst 5000 (account default)"
    t = snap2.frames["apigw_throttling"]
    assert set(t["stage"]) == {"prod", "dev"} and set(t["api_kind"]) == {"rest"}


def test_http_api_stage_throttling(env):
    v2 = env.client("apigatewayv2")
    api = v2.create_api(Name="edge", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api, StageName="live", DefaultRouteSettings={"ThrottlingRateLimit": 0.0, "ThrottlingBurstLimit": 0})
    snap = health.snapshot({"api_id": api}, session=env, alarms=False)
    row = _row(snap, "apigw_stage", f"{api}/live")
    assert row["state"] == "unhealthy" and "429" in row["reason"]
    assert snap.frames["apigw_throttling"]["api_kind"].tolist() == ["http"]


def test_ecs_desired_vs_running(env):
    ecs = env.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition="web", desiredCount=2)
    ecs.create_service(cluster="prod", serviceName="idle", taskDefinition="web", desiredCount=0)
    snap = health.snapshot({"ecs_cluster": "prod", "ecs_service": ["web", "idle"]}, session=env, alarms=False)
    web = _row(snap, "ecs_service", "prod/web")
    assert web["state"] == "unhealthy" and web["key_number"] == "0/2 running"
    assert _row(snap, "ecs_service", "prod/idle")["state"] == "healthy"
    assert _setting(snap, "ecs_service", "prod/web", "desiredCount") == "2"
    assert set(snap.frames["ecs_deployments"]["service"]) == {"web", "idle"}


def test_ecs_judgement_from_events_and_rollout():
    c = health._Collector({}, pd.Timestamp.now(tz="UTC"))

    class FakeClient:
        def describe_services(self, **kw):
            return {"services": [{"serviceName": "api", "status": "ACTIVE", "desiredCount": 4, "runningCount": 4, "pendingCount": 0,
                                  "deployments": [{"id": "d1", "status": "PRIMARY", "rolloutState": "COMPLETED"}],
                                  "events": [{"createdAt": NOW, "message": "(service api) has started 1 tasks."},
                                             {"createdAt": NOW - dt.timedelta(minutes=1),
                                              "message": "(service api) (port 8080) is unhealthy in target-group web due to (reason Health checks failed)."}]}]}

    c.clients["ecs"] = FakeClient()
    health._collect_ecs(c, "prod", "api")
    row = c.summary[0]
    assert row["state"] == "degraded" and "is unhealthy in target-group" in row["reason"]
    assert len(c.rows["ecs_events"]) == 2


# --------------------------------------------------------------------------------------------
# security groups vs Route 53 checkers, alarms, permissions, output
# --------------------------------------------------------------------------------------------


def test_security_group_blocking_route53_checkers_is_unhealthy(env):
    ec2, vpc, *_ = make_vpc(env)
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    hc = make_health_check(env)
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations({r: TIMEOUT for r in REGIONS})})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    snap = health.snapshot({"security_group_ids": [sg], "health_check_id": hc}, session=env, alarms=False)
    row = _row(snap, "security_group", sg)
    assert row["state"] == "unhealthy"
    assert row["key_number"] == "8/8 checker regions blocked on TCP 443"
    rules = snap.frames["security_group_rules"]
    assert ((rules["direction"] == "ingress") & (rules["source"] == "10.0.0.0/8") & (rules["from_port"] == 443)).any()
    assert json.loads(_setting(snap, "security_group", sg, "IpPermissions"))[0]["FromPort"] == 443


def test_security_group_allowing_checkers_is_healthy(env):
    ec2, vpc, *_ = make_vpc(env)
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    hc = make_health_check(env)
    canned(env, "route-53", "GetHealthCheckStatus", {"HealthCheckObservations": observations({r: OK for r in REGIONS})})
    canned(env, "route-53", "GetHealthCheckLastFailureReason", {"HealthCheckObservations": []})
    snap = health.snapshot({"security_group_ids": sg, "health_check_id": hc}, session=env, alarms=False)
    assert _row(snap, "security_group", sg)["state"] == "healthy"
    assert _row(snap, "route53_health_check", hc)["state"] == "healthy"
    assert health.exit_code(snap) == 0


def test_alarms_matched_by_dimension_with_history(env):
    lb, tg, ids = make_web_stack(env)
    cw = env.client("cloudwatch")
    tg_dim = tg.split(":", 5)[-1]
    cw.put_metric_alarm(AlarmName="web-unhealthy-hosts", Namespace="AWS/ApplicationELB", MetricName="UnHealthyHostCount",
                        Dimensions=[{"Name": "TargetGroup", "Value": tg_dim}, {"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[-1]}],
                        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(AlarmName="other-service", Namespace="AWS/Lambda", MetricName="Errors",
                        Dimensions=[{"Name": "FunctionName", "Value": "unrelated"}], Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="web-unhealthy-hosts", StateValue="ALARM", StateReason="Threshold Crossed")
    history = canned(env, "cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": [
        {"AlarmName": "web-unhealthy-hosts", "AlarmType": "MetricAlarm", "Timestamp": NOW, "HistoryItemType": "StateUpdate",
         "HistorySummary": "Alarm updated from OK to ALARM",
         "HistoryData": json.dumps({"oldState": {"stateValue": "OK"}, "newState": {"stateValue": "ALARM"}})},
        {"AlarmName": "web-unhealthy-hosts", "AlarmType": "MetricAlarm", "Timestamp": NOW - dt.timedelta(hours=1),
         "HistoryItemType": "StateUpdate", "HistorySummary": "Alarm updated from ALARM to OK",
         "HistoryData": json.dumps({"oldState": {"stateValue": "ALARM"}, "newState": {"stateValue": "OK"}})}]})
    snap = health.snapshot({"target_group_arn": tg}, session=env, alarm_history=5)
    a = snap.frames["alarms"]
    assert a["alarm_name"].tolist() == ["web-unhealthy-hosts"]  # the Lambda alarm is not ours
    assert a["resource_type"].tolist() == ["target_group"]
    row = _row(snap, "target_group", tg)
    assert row["state"] == "degraded" and "web-unhealthy-hosts in ALARM" in row["reason"]
    assert _row(snap, "cloudwatch_alarms", "*")["key_number"] == "1 in ALARM of 1"
    h = snap.frames["alarm_history"]
    assert h["new_state"].tolist() == ["ALARM", "OK"] and h["resource_type"].iloc[0] == "target_group"
    assert history[0] == {"AlarmName": "web-unhealthy-hosts", "HistoryItemType": "StateUpdate", "MaxRecords": 5,
                          "ScanBy": "TimestampDescending"}


def test_access_denied_for_one_service_is_a_not_collected_row(env):
    lb, tg, ids = make_web_stack(env)
    make_table(env, "orders")
    canned(env, "dynamodb", "DescribeTable", error=("AccessDeniedException",
           "User: arn:aws:sts::123456789012:assumed-role/oncall/x is not authorized to perform: dynamodb:DescribeTable"))
    snap = health.snapshot({"target_group_arn": tg, "table_name": "orders"}, session=env, alarms=False)
    row = _row(snap, "dynamodb_table", "orders")
    assert row["state"] == "not_collected"
    assert row["reason"].startswith("AccessDenied: dynamodb:DescribeTable: User: arn:aws:sts::")
    assert _row(snap, "target_group", tg)["state"] == "healthy"  # the rest still came
    assert any("not collected" in i for i in snap.issues)
    assert snap.frames["dynamodb"].attrs["complete"] is False
    assert snap.frames["targets"].attrs["complete"] is True
    assert health.exit_code(snap) == health.EXIT_NOT_COLLECTED == 3  # not looked at: not reported healthy


def test_a_table_named_by_its_arn(env):
    make_table(env, "orders")
    snap = health.snapshot({"table_name": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}, session=env, alarms=False)
    assert _setting(snap, "dynamodb_table", "orders", "BillingMode") == "PROVISIONED"


def test_missing_resource_is_unhealthy_not_a_crash(env):
    snap = health.snapshot({"table_name": "no-such-table", "db_instance": "nope"}, session=env, alarms=False)
    assert _row(snap, "dynamodb_table", "no-such-table")["state"] == "unhealthy"
    assert _row(snap, "rds_instance", "nope")["reason"].startswith("NotFound")


def test_bad_resource_parameters():
    with pytest.raises(ParameterError, match="unknown resource parameter 'lambda'"):
        health.snapshot({"lambda": "api"})
    with pytest.raises(ParameterError, match="exactly one ecs_cluster"):
        health.snapshot({"ecs_service": "web"})
    with pytest.raises(ParameterError, match="stage needs api_id"):
        health.snapshot({"stage": "prod"})
    with pytest.raises(ParameterError, match="no resources"):
        health.snapshot({"table_name": ""})


def test_unknown_parameter_ignored_when_not_strict(env):
    make_table(env, "orders")
    snap = health.snapshot({"table_name": "orders", "log_groups": "/aws/lambda/api"}, strict=False, session=env, alarms=False)
    assert any("log_groups" in i for i in snap.issues)
    assert _row(snap, "dynamodb_table", "orders")["state"] == "healthy"


def test_json_output_and_table(env):
    lb, tg, ids = make_web_stack(env, stop=3)
    make_table(env, "orders")
    snap = health.snapshot({"target_group_arn": tg, "table_name": "orders"}, session=env, alarms=False)
    doc = json.loads(snap.to_json())
    assert doc["exit_code"] == 1
    assert doc["collected_at"].endswith("Z")
    assert {r["resource_type"] for r in doc["summary"]} == {"target_group", "dynamodb_table"}
    assert doc["frames"]["targets"][0]["port"] == 80
    assert any(s["setting"] == "HealthCheckIntervalSeconds" for s in doc["settings"])
    text = health.format_table(snap)
    lines = text.splitlines()
    assert lines[0].startswith("health snapshot collected ")
    assert lines[1].split()[:2] == ["STATE", "RESOURCE"]
    assert lines[2].startswith("unhealthy  target_group targetgroup/web/")  # worst first, ARN shortened
    assert "0/3 healthy" in lines[2]
    assert lines[3].startswith("healthy")


def test_every_frame_has_fixed_columns_even_when_empty(env):
    make_table(env, "orders")
    snap = health.snapshot({"table_name": "orders"}, session=env, alarms=False)
    assert set(snap.frames) == set(health.FRAME_COLUMNS)
    for name, df in snap.frames.items():
        assert list(df.columns) == list(health.FRAME_COLUMNS[name]), name
        for col, dtype in health.FRAME_COLUMNS[name].items():
            assert str(df[col].dtype) == dtype, (name, col)
        assert df.attrs["source"] == f"health.{name}"
