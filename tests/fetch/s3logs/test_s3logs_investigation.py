"""An investigation naming a load balancer reads its access logs from S3 (moto) and uses them."""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from moto import mock_aws

import incidentkit as ik
from incidentkit.fetch.s3logs import discover

from _helpers.s3logs import ACCOUNT, REGION, put_alb_logs

_T = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=3)  # recent: the change timeline reads 90 days back at most
WIN = (_T.isoformat(), (_T + pd.Timedelta(minutes=30)).isoformat())


def _lb(enabled: bool = True) -> tuple[str, list[str]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    elb = boto3.client("elbv2", region_name=REGION)
    arn = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="lb-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    if enabled:
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "lb-logs"},
            {"Key": "access_logs.s3.prefix", "Value": "alb"}])
    lb_id = "app." + arn.split("/app/")[1].replace("/", ".")
    lines = put_alb_logs(s3, "lb-logs", _T - pd.Timedelta(hours=1), _T + pd.Timedelta(hours=1),
                         fail_from=_T + pd.Timedelta(minutes=10), lb_id=lb_id)
    return arn, lines


@mock_aws
def test_load_balancer_parameter_reads_its_access_logs_into_the_requests(tmp_path):
    arn, lines = _lb()
    inv = ik.Investigation(*WIN, region=REGION, evidence=tmp_path / "ev", resources={"load_balancer": arn})
    req = inv.requests()
    want = [ln for ln in lines if pd.Timestamp(WIN[0]) <= pd.Timestamp(ln.split(" ")[1]) < pd.Timestamp(WIN[1])]
    assert len(req) == len(want) and set(req["tier"]) == {"entry"} and set(req["tier_format"]) == {"alb_access"}
    assert (req["status"] == 502).sum() == sum(" 502 - " in ln for ln in want)
    rows = inv.s3_logs()
    assert rows.loc[rows["status"] == 502, "error_reason"].eq("TargetConnectionError").all()
    # the ledger of objects is in the evidence, and a replay gives the same requests offline
    assert inv.bundle.find("s3objects") and inv.bundle.unread_primary() is None
    again = ik.Investigation.open(tmp_path / "ev")
    assert len(again.requests()) == len(req)


@mock_aws
def test_access_logs_off_is_said_and_the_evidence_is_inconclusive(tmp_path):
    arn, _ = _lb(enabled=False)
    inv = ik.Investigation(*WIN, region=REGION, evidence=tmp_path / "ev", resources={"load_balancer": arn})
    assert inv.requests().empty
    assert any("access_logs.s3.enabled" in i for i in inv.bundle.entry(inv.bundle.find("logs")[0])["attrs"]["issues"])
    assert inv.bundle.unread_primary()


def test_access_logs_parameter_overrides_discovery():
    srcs = discover.sources_from_urls(["s3://b/p", "waf:s3://aws-waf-logs-x/"], {"load_balancer": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"})
    assert [(s.layout, s.base, s.ids.get("lb")) for s in srcs] == [("alb_access", "p/", "app.web.50dc6c495c0c9188"), ("waf", "", None)]
    with pytest.raises(ik.errors.ParameterError):
        discover.sources_from_urls(["nope:s3://b/"], {})
