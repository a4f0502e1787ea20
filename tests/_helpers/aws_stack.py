"""AWS resources built in moto for the health and audit tests, and canned answers for the calls moto does not emulate."""

from __future__ import annotations

import datetime as dt
import json

import boto3
from botocore.awsrequest import AWSResponse


NOW = dt.datetime.now(dt.timezone.utc)


def canned(session: boto3.Session, service_id: str, op: str, response: dict | None = None, *,
           error: tuple[str, str] | None = None, status: int = 400) -> list[dict]:
    """Answer ``op`` on every client of ``session`` with ``response`` (or an error), as Stubber does.

    Registered on ``before-call``, so the read-only guard and the call listeners still run.
    Returns the list of parameter dicts the operation was called with.
    """
    calls: list[dict] = []

    def record(params, **kwargs):
        calls.append(dict(params))

    def handler(**kwargs):
        if error:
            code, message = error
            return AWSResponse("https://stub", status, {}, None), {"Error": {"Code": code, "Message": message},
                                                                      "ResponseMetadata": {"HTTPStatusCode": status}}
        body = dict(response or {})
        body.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
        return AWSResponse("https://stub", 200, {}, None), body

    session.events.register(f"before-parameter-build.{service_id}.{op}", record)
    session.events.register(f"before-call.{service_id}.{op}", handler)
    return calls


def observations(statuses: dict[str, str], ip_base: str = "54.") -> list[dict]:
    out = []
    for i, (region, status) in enumerate(statuses.items()):
        out.append({"Region": region, "IPAddress": f"{ip_base}{i}.0.{i}", "StatusReport": {"Status": status, "CheckedTime": NOW}})
    return out


REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1")


OK = "Success: HTTP Status Code 200, OK"


TIMEOUT = "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."


def make_vpc(session):
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    return ec2, vpc, s1, s2


def make_web_stack(session, *, stop: int = 0, interval: int = 30, timeout: int = 5, unhealthy: int = 2, delay: str = "300"):
    """ALB + target group + 3 instances (``stop`` of them stopped after registration)."""
    ec2, vpc, s1, s2 = make_vpc(session)
    sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3, SubnetId=s1)["Instances"]]
    elb = session.client("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=[s1, s2], SecurityGroups=[sg])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckIntervalSeconds=interval,
                                 HealthCheckTimeoutSeconds=timeout, UnhealthyThresholdCount=unhealthy,
                                 HealthyThresholdCount=3)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": i} for i in ids])
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": delay}])
    if stop:
        ec2.stop_instances(InstanceIds=ids[:stop])
    return lb, tg, ids


def make_health_check(session, **cfg):
    config = {"IPAddress": "203.0.113.10", "Port": 443, "Type": "HTTPS", "ResourcePath": "/health", "RequestInterval": 10,
              "FailureThreshold": 2, **cfg}
    return session.client("route53").create_health_check(CallerReference=json.dumps(cfg), HealthCheckConfig=config)["HealthCheck"]["Id"]


def make_table(session, name, billing="PROVISIONED", gsi=False):
    kw = dict(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    if billing == "PROVISIONED":
        kw["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 10}
        if gsi:
            kw["GlobalSecondaryIndexes"] = [{"IndexName": "by-sk", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
                                             "Projection": {"ProjectionType": "ALL"},
                                             "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 3}}]
    else:
        kw["BillingMode"] = "PAY_PER_REQUEST"
    if not gsi:
        kw["AttributeDefinitions"] = kw["AttributeDefinitions"][:1]
    session.client("dynamodb").create_table(**kw)
