"""Where a resource's logs are, read from its own configuration (moto): load balancer attributes,
a distribution's logging config, DescribeFlowLogs, the WAF logging configuration; and the one-line
errors when logging is off or the bucket cannot be listed."""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from incidentkit.errors import IncidentKitError
from incidentkit.fetch.s3logs import Source, discover, read
from incidentkit.fetch.s3logs.discover import discover as find_sources
from incidentkit.parse import batches
from incidentkit.window import Window

from _helpers.s3logs import REGION

WIN = Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T03:30Z"))


def _alb(attrs: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    elb = boto3.client("elbv2", region_name=REGION)
    arn = elb.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    if attrs:
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in attrs.items()])
    return arn


@mock_aws
def test_a_load_balancer_names_its_access_and_connection_logs_by_name_or_arn():
    arn = _alb({"access_logs.s3.enabled": "true", "access_logs.s3.bucket": "lb-logs", "access_logs.s3.prefix": "prod/alb",
                "connection_logs.s3.enabled": "true", "connection_logs.s3.bucket": "conn-logs"})
    for ref in (arn, "shop"):
        sources, notes = find_sources({"load_balancer": ref}, region=REGION)
        assert notes == []
        assert [(s.url, s.layout) for s in sources] == [("s3://lb-logs/prod/alb/", "alb_access"), ("s3://conn-logs/", "alb_connection")]
        assert sources[0].ids["lb"] == "app." + arn.split("/app/")[1].replace("/", ".") and sources[0].resource == arn


@mock_aws
def test_a_load_balancer_with_access_logs_off_says_so_in_one_line():
    arn = _alb({})
    sources, notes = find_sources({"load_balancer": arn}, region=REGION)
    assert sources == [] and len(notes) == 1 and "\n" not in notes[0]
    assert "access_logs.s3.enabled" in notes[0] and "-p access_logs=" in notes[0]


def _distribution(logging: dict, ref: str) -> str:
    cf = boto3.client("cloudfront", region_name="us-east-1")
    conf = {
        "CallerReference": ref, "Comment": "", "Enabled": True, "Logging": logging,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o1", "DomainName": "origin.example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    }
    return cf.create_distribution(DistributionConfig=conf)["Distribution"]["Id"]


@mock_aws
def test_a_distribution_names_its_standard_log_bucket_and_prefix():
    dist = _distribution({"Enabled": True, "IncludeCookies": False, "Bucket": "cf-logs.s3.amazonaws.com", "Prefix": "cdn/"}, "on")
    sources, notes = find_sources({"distribution": dist}, region=REGION)
    assert notes == [] and [(s.url, s.layout, s.ids) for s in sources] == [("s3://cf-logs/cdn/", "cloudfront_access", {"dist": dist})]
    off = _distribution({"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}, "off")
    sources, notes = find_sources({"distribution": off}, region=REGION)
    assert sources == [] and len(notes) == 1 and "logging" in notes[0] and "-p access_logs=" in notes[0]


@mock_aws
def test_flow_logs_to_s3_carry_their_custom_log_format_and_others_are_said():
    ec2 = boto3.client("ec2", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="flow-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    fmt = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${tcp-flags} ${pkt-srcaddr} ${flow-direction}"
    # (moto would read a prefix in the destination as part of the bucket's name)
    fl = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                              LogDestination="arn:aws:s3:::flow-logs", LogFormat=fmt)["FlowLogIds"][0]
    sources, notes = find_sources({"vpc_id": vpc}, region=REGION)
    assert notes == [] and len(sources) == 1
    src = sources[0]
    assert (src.url, src.layout, src.fields, src.ids["flowlog"]) == ("s3://flow-logs/", "vpc_flow", fmt, fl)
    other = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    sources, notes = find_sources({"vpc_id": other}, region=REGION)
    assert sources == [] and "no flow log" in notes[0] and "vpc_flow:s3://" in notes[0]


@mock_aws
def test_a_web_acl_names_its_s3_log_destination_or_says_logging_is_off():
    waf = boto3.client("wafv2", region_name=REGION)
    acl = waf.create_web_acl(Name="shop-acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                             VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                                               "MetricName": "shop-acl"})["Summary"]["ARN"]
    sources, notes = find_sources({"web_acl": acl}, region=REGION)
    assert sources == [] and "logging is off" in notes[0]
    waf.put_logging_configuration(LoggingConfiguration={"ResourceArn": acl, "LogDestinationConfigs": ["arn:aws:s3:::aws-waf-logs-shop"]})
    sources, notes = find_sources({"web_acl": acl}, region=REGION)
    assert notes == [] and [(s.url, s.layout, s.ids["acl"]) for s in sources] == [("s3://aws-waf-logs-shop/", "waf", "shop-acl")]


@mock_aws
def test_access_logs_given_override_what_the_resource_says():
    arn = _alb({"access_logs.s3.enabled": "true", "access_logs.s3.bucket": "lb-logs"})
    sources, _ = find_sources({"load_balancer": arn, "access_logs": ["s3://elsewhere/alb", "alb_connection:s3://conn/"]}, region=REGION)
    assert [(s.url, s.layout) for s in sources] == [("s3://elsewhere/alb/", "alb_access"), ("s3://conn/", "alb_connection")]
    assert discover.RESOURCE_KEYS[0] == "access_logs"


@mock_aws
def test_a_bucket_that_cannot_be_listed_is_one_line_naming_the_logs_and_the_grant():
    src = Source("s3://no-such-log-bucket/alb/", "alb_access", {"account": "123456789012", "region": REGION, "lb": "app.x.1"},
                 resource="arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1")
    with pytest.raises(IncidentKitError) as got:
        read([src], WIN, parser=batches, region=REGION)
    text = str(got.value)
    assert "\n" not in text and "s3://no-such-log-bucket/alb/" in text and "NoSuchBucket" in text and "s3:ListBucket" in text
