"""Change kinds, the resources a change touched, and the matcher that links changes to findings.

Records are built the way the timeline builds them (``changes.parse_cloudtrail_records`` on
CloudTrail records shaped as AWS's API reference shows them), in several services' shapes.
"""

from __future__ import annotations

import doctest
import json

import pandas as pd
import pytest

from incidentkit.fetch import change_detail as cd
from incidentkit.analyses import change_words
from incidentkit.fetch import changes
from incidentkit._util import resource_ids
from incidentkit.analyses import related
from incidentkit.analyses.related import ChangeSpec, related_changes, targets_from
from incidentkit.window import Window

ACCOUNT = "123456789012"
WINDOW = Window(pd.Timestamp("2026-09-02T00:00Z"), pd.Timestamp("2026-09-02T06:00Z"))


def record(when, source, name, request=None, response=None, *, actor="arn:aws:iam::123456789012:user/ops", error=None):
    rec = {"eventTime": when, "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
           "userIdentity": {"type": "IAMUser", "arn": actor}, "userAgent": "aws-cli/2.15.0",
           "requestParameters": request or {}, "responseElements": response}
    if error:
        rec["errorCode"] = error
    return rec


def timeline(*records):
    return changes.parse_cloudtrail_records(list(records))


# --------------------------------------------------------------------------- kinds and resources


@pytest.mark.parametrize("source, name, params, kind", [
    ("lambda.amazonaws.com", "DeleteProvisionedConcurrencyConfig", {"functionName": "api", "qualifier": "live"}, "provisioned-concurrency"),
    ("lambda.amazonaws.com", "PutProvisionedConcurrencyConfig20190930", {"functionName": "api", "qualifier": "live",
                                                                         "provisionedConcurrentExecutions": 2}, "provisioned-concurrency"),
    ("application-autoscaling.amazonaws.com", "PutScheduledAction", {"serviceNamespace": "lambda", "resourceId": "function:api:live",
                                                                     "scalableDimension": "lambda:function:ProvisionedConcurrency"},
     "provisioned-concurrency"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {"functionName": "api"}, "code"),
    ("lambda.amazonaws.com", "UpdateAlias20150331", {"functionName": "api", "name": "live", "functionVersion": "7"}, "alias"),
    ("dynamodb.amazonaws.com", "UpdateTable", {"tableName": "orders", "billingMode": "PROVISIONED",
                                               "provisionedThroughput": {"readCapacityUnits": 100}}, "table-capacity"),
    ("dynamodb.amazonaws.com", "UpdateTable", {"tableName": "orders", "streamSpecification": {"streamEnabled": True}}, "table-config"),
    ("application-autoscaling.amazonaws.com", "RegisterScalableTarget", {"serviceNamespace": "dynamodb",
                                                                         "resourceId": "table/orders"}, "table-capacity"),
    ("ec2.amazonaws.com", "RevokeSecurityGroupIngress", {"groupId": "sg-0a1b2c3d"}, "security-group"),
    ("ec2.amazonaws.com", "ReplaceNetworkAclEntry", {"networkAclId": "acl-0a1b2c3d", "ruleNumber": 100}, "network-acl"),
    ("elasticloadbalancing.amazonaws.com", "ModifyTargetGroup", {"targetGroupArn": "arn:x", "healthCheckIntervalSeconds": 5}, "health-check"),
    ("elasticloadbalancing.amazonaws.com", "ModifyTargetGroupAttributes", {"targetGroupArn": "arn:x"}, "target-group-attributes"),
    ("codedeploy.amazonaws.com", "CreateDeployment", {"applicationName": "a", "deploymentGroupName": "g"}, "deployment"),
    ("ecs.amazonaws.com", "UpdateService", {"cluster": "prod", "service": "web", "desiredCount": 8}, "scaling"),
])
def test_change_kinds(source, name, params, kind):
    row = timeline(record("2026-09-01T18:26:41Z", source, name, params)).iloc[0].to_dict()
    assert cd.change_kind(row) == kind


def test_touched_resources_in_every_spelling():
    tl = timeline(
        record("2026-09-01T18:00:00Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
               {"functionName": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:catalog-search"}),
        record("2026-09-01T18:01:00Z", "lambda.amazonaws.com", "UpdateEventSourceMapping20150331",
               {"uUID": "6d3f1e2a"}, {"uUID": "6d3f1e2a", "functionArn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:writer"}),
        record("2026-09-01T18:02:00Z", "ecs.amazonaws.com", "UpdateService", {"cluster": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/prod",
                                                                             "service": "billing-api", "taskDefinition": "billing-api:7"}),
        record("2026-09-01T18:03:00Z", "elasticloadbalancing.amazonaws.com", "ModifyTargetGroupAttributes",
               {"targetGroupArn": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/web/3c9e"}),
    )
    got = [[r.kind + " " + r.label for r in cd.touched(row)] for row in tl.to_dict("records")]
    assert got[0] == ["function catalog-search"]
    assert "function writer" in got[1]
    assert got[2] == ["ecs_service prod/billing-api"]
    assert got[3] == ["target_group web"]
    tg = cd.touched(tl.iloc[3].to_dict())[0]
    assert tg.matches(resource_ids.parse("targetgroup/web/3c9e"))


def test_rule_ports_survive_cut_short_parameters():
    many = [{"ipProtocol": "tcp", "fromPort": p, "toPort": p,
             "ipRanges": {"items": [{"cidrIp": f"10.{i}.0.0/16", "description": "x" * 60} for i in range(4)]}}
            for p in (22, 80, 8443, 443)]
    row = timeline(record("2026-05-21T13:58:00Z", "ec2.amazonaws.com", "RevokeSecurityGroupIngress",
                          {"groupId": "sg-0a1b2c3d", "ipPermissions": {"items": many}})).iloc[0].to_dict()
    assert isinstance(json.loads(row["detail"])["params"], str), "the parameters were cut short in the timeline"
    assert ("tcp", 443, 443) in cd.ports_of(row)
    sdk = cd.rule_ports({"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "-1"}]})
    assert sdk == [("all", 0, 65535)]
    nacl = cd.rule_ports({"networkAclId": "acl-1", "protocol": "6", "portRange": {"from": 443, "to": 443}, "ruleAction": "deny"})
    assert nacl == [("tcp", 443, 443)]


def test_describe_is_blameless_and_drops_the_api_version():
    row = timeline(record("2026-03-10T02:47:12Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
                          {"functionName": "shop-jwt-authorizer"},
                          actor="arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/dana@x.example")
                   ).iloc[0].to_dict()
    text = change_words.describe(row, reference="2026-03-10T02:30:00Z")
    assert text == ("new code was deployed to `shop-jwt-authorizer` (UpdateFunctionCode) at 02:47 UTC by role "
                    "AWSReservedSSO_Dev")
    assert "dana" not in text and "20150331" not in text


# --------------------------------------------------------------------------- the matcher

COLD = ChangeSpec("cold-start-tail", {"provisioned-concurrency": "p", "code": "c"})


def test_a_change_hours_before_the_window_on_the_same_function_is_found():
    tl = timeline(
        record("2026-09-01T18:26:41Z", "lambda.amazonaws.com", "DeleteProvisionedConcurrencyConfig",
               {"functionName": "catalog-search", "qualifier": "live"}),
        record("2026-09-01T18:27:05Z", "cloudformation.amazonaws.com", "UpdateStack", {"stackName": "dashboards"}),
        record("2026-09-01T20:00:00Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {"functionName": "other-fn"}),
    )
    got = related_changes(tl, COLD, targets_from(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:catalog-search"), window=WINDOW)
    assert [r["api"] for r in got] == ["DeleteProvisionedConcurrencyConfig"], "another function's deploy is not related"
    assert got[0]["target"] == "catalog-search:live" and got[0]["lead_s"] == pytest.approx(5.5 * 3600 + 199, abs=1)
    assert got[0]["description"].startswith("provisioned concurrency on `catalog-search:live` was deleted")


def test_restored_failed_and_later_changes_do_not_explain():
    tl = timeline(
        record("2026-09-01T18:00:00Z", "lambda.amazonaws.com", "DeleteProvisionedConcurrencyConfig", {"functionName": "api", "qualifier": "live"}),
        record("2026-09-01T19:00:00Z", "lambda.amazonaws.com", "PutProvisionedConcurrencyConfig",
               {"functionName": "api", "qualifier": "live", "provisionedConcurrentExecutions": 5}),
        record("2026-09-01T20:00:00Z", "lambda.amazonaws.com", "UpdateFunctionCode", {"functionName": "api"}, error="ResourceConflictException"),
        record("2026-09-02T07:00:00Z", "lambda.amazonaws.com", "UpdateFunctionCode", {"functionName": "api"}),
    )
    got = related_changes(tl, COLD, targets_from("api", kind="function"), window=WINDOW)
    assert [(r["api"], r["description"].split(" (")[0]) for r in got] == [
        ("PutProvisionedConcurrencyConfig", "provisioned concurrency on `api:live` was set to 5")]
    # another alias's provisioned concurrency is another resource
    assert related_changes(tl, COLD, targets_from("api:blue", kind="function"), window=WINDOW) == []


def test_unscoped_kinds_only_near_the_onset_and_only_when_the_finding_names_no_such_resource():
    spec = ChangeSpec("healthcheck-blocked-by-change", {"security-group": "s"}, unscoped={"security-group": "60min"})
    onset = pd.Timestamp("2026-05-21T14:00Z")
    tl = timeline(
        record("2026-05-21T13:58:00Z", "ec2.amazonaws.com", "RevokeSecurityGroupIngress", {"groupId": "sg-0aaaaaaa"}),
        record("2026-05-21T09:00:00Z", "ec2.amazonaws.com", "RevokeSecurityGroupIngress", {"groupId": "sg-0bbbbbbb"}),
    )
    got = related_changes(tl, spec, [], onset=onset)
    assert [r["resource"] for r in got] == ["sg-0aaaaaaa"] and got[0]["match"] == "kind"
    named = related_changes(tl, spec, targets_from("sg-0bbbbbbb"), onset=onset)
    assert [r["resource"] for r in named] == ["sg-0bbbbbbb"] and named[0]["match"] == "resource"


def test_timeline_lambda_rows_and_codedeploy_rows_match_too():
    lam = pd.DataFrame({"timestamp": [pd.Timestamp("2026-09-01T23:00Z")], "source": "lambda", "event_name": "VersionPublished",
                        "class": "DEPLOYMENT", "actor": None, "resource": "api", "error_code": None,
                        "detail": json.dumps({"function": "api", "version": "9", "aliases": ["live"]})})
    got = related_changes(lam, COLD, targets_from("api:live", kind="function"), window=WINDOW)
    assert got and got[0]["kind"] == "code" and "version 9" in got[0]["description"]


def test_related_records_and_wording():
    rec = related.records(timeline(record("2026-03-06T09:00:00Z", "ec2.amazonaws.com", "RevokeSecurityGroupIngress",
                                          {"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22,
                                                                                          "toPort": 22}]}})))
    assert rec[0]["kind"] == "security-group" and "(TCP 22; RevokeSecurityGroupIngress)" in rec[0]["description"]
    assert related.lead_text(None) == "" and related.evidence(None) == {}


@pytest.mark.parametrize("module", [cd, change_words, related])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
