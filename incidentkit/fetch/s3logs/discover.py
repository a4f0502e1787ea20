"""Where a resource's logs are in S3, read from the resource's own configuration.

============================  ==========================================================
resource parameter            what is read
============================  ==========================================================
``load_balancer`` (name/ARN)  ``elbv2:DescribeLoadBalancers`` and
                              ``DescribeLoadBalancerAttributes`` (``access_logs.s3.*``,
                              ``connection_logs.s3.*``)
``distribution`` (id)         ``cloudfront:GetDistributionConfig`` (``Logging``)
``vpc_id``                    ``ec2:DescribeFlowLogs`` (S3 destinations, ``LogFormat``)
``web_acl`` (ARN)             ``wafv2:GetLoggingConfiguration``
``access_logs`` (list)        given: ``s3://bucket/prefix`` (layout from the resource
                              named beside it, else ALB access), or ``<layout>:s3://...``
============================  ==========================================================

``access_logs`` overrides discovery. A resource whose logging is off gives no source and a
note saying how to turn it on (the caller shows it: no finding from logs that were never
written).

Example
-------
>>> sources_from_urls(["vpc_flow:s3://flow-logs/"], {})[0].layout
'vpc_flow'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import botocore.exceptions as bx

from ...errors import ParameterError, from_botocore
from ..aws import client as aws_client
from .layouts import LAYOUTS
from .reader import Source

__all__ = ["RESOURCE_KEYS", "discover", "lb_ids", "sources_from_urls"]

#: Resource parameters that name logs written to S3.
RESOURCE_KEYS = ("access_logs", "load_balancer", "distribution", "vpc_id", "web_acl")

_LB_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[^:]+):(?P<account>\d+):loadbalancer/(?P<kind>app|net)/(?P<name>[^/]+)/(?P<id>[0-9a-f]+)$")
_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:(?P<region>[^:]+):(?P<account>\d+):(?P<scope>regional|global)/webacl/(?P<name>[^/]+)/")


def lb_ids(arn: str) -> dict[str, str]:
    """Account, region and the key's load-balancer id (``app.<name>.<id>``) of an ALB/NLB ARN.

    Example
    -------
    >>> lb_ids("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")["lb"]
    'app.web.50dc6c495c0c9188'
    """
    m = _LB_ARN.match(arn)
    if not m:
        raise ParameterError(f"not a load balancer ARN: {arn!r}")
    return {"account": m["account"], "region": m["region"], "lb": f"{m['kind']}.{m['name']}.{m['id']}", "kind": m["kind"]}


def _default_layout(resources: Mapping[str, Any]) -> str:
    lb = str(resources.get("load_balancer") or "")
    if "/net/" in lb or lb.startswith("net/"):
        return "nlb_access"
    if resources.get("distribution"):
        return "cloudfront_access"
    if resources.get("vpc_id"):
        return "vpc_flow"
    if resources.get("web_acl"):
        return "waf"
    return "alb_access"


def sources_from_urls(urls: Sequence[str], resources: Mapping[str, Any]) -> list[Source]:
    """Sources for ``access_logs`` values: ``s3://bucket/prefix`` or ``<layout>:s3://...``."""
    out = []
    for url in urls:
        layout, sep, rest = str(url).partition(":s3://")
        layout, url = (layout, "s3://" + rest) if sep else (_default_layout(resources), str(url))
        if layout not in LAYOUTS and layout != "any":
            raise ParameterError(f"access_logs {url!r}: no layout {layout!r}; use one of {', '.join(LAYOUTS)}")
        ids: dict[str, str] = {}
        lb = str(resources.get("load_balancer") or "")
        if layout in ("alb_access", "alb_connection", "nlb_access") and lb.startswith("arn:"):
            ids = {k: v for k, v in lb_ids(lb).items() if k != "kind"}
        src = Source(url, layout, ids, resource=lb or None)
        out.append(Source(_s3_url(src.bucket, src.base), layout, ids, resource=lb or None))
    return out


def discover(resources: Mapping[str, Any], *, session: Any = None, region: str | None = None,
             endpoint_url: str | None = None) -> tuple[list[Source], list[str]]:
    """``(sources, notes)`` for the resources (see the module docstring)."""
    urls = resources.get("access_logs")
    if urls:
        return sources_from_urls([urls] if isinstance(urls, str) else list(urls), resources), []
    kw = {"session": session, "region": region, "endpoint_url": endpoint_url}
    sources: list[Source] = []
    notes: list[str] = []
    for key, find in (("load_balancer", _load_balancer), ("distribution", _distribution), ("vpc_id", _flow_logs),
                      ("web_acl", _web_acl)):
        if resources.get(key):
            got, said = find(str(resources[key]), **kw)
            sources += got
            notes += said
    return sources, notes


def _call(c: Any, op: str, **params: Any) -> Any:
    try:
        return getattr(c, op)(**params)
    except (bx.ClientError, bx.BotoCoreError) as exc:
        raise from_botocore(exc, service=c.meta.service_model.service_name, operation=op) from exc


def _s3_url(bucket: str, prefix: str | None) -> str:
    prefix = (prefix or "").strip("/")
    return f"s3://{bucket}/{prefix + '/' if prefix else ''}"


def _load_balancer(lb: str, **kw: Any) -> tuple[list[Source], list[str]]:
    c = aws_client("elbv2", **kw)
    if lb.startswith("arn:"):
        arn = lb
    else:
        name = lb.split("/")[1] if lb.count("/") == 2 else lb
        found = _call(c, "describe_load_balancers", Names=[name])["LoadBalancers"]
        arn = found[0]["LoadBalancerArn"]
    ids = lb_ids(arn)
    attrs = {a["Key"]: a.get("Value") for a in _call(c, "describe_load_balancer_attributes", LoadBalancerArn=arn)["Attributes"]}
    out, notes = [], []
    kinds = [("access_logs", "nlb_access" if ids["kind"] == "net" else "alb_access")]
    if ids["kind"] == "app":
        kinds.append(("connection_logs", "alb_connection"))
    for attr, layout in kinds:
        if str(attrs.get(f"{attr}.s3.enabled", "false")).lower() == "true" and attrs.get(f"{attr}.s3.bucket"):
            url = _s3_url(str(attrs[f"{attr}.s3.bucket"]), attrs.get(f"{attr}.s3.prefix"))
            out.append(Source(url, layout, {k: v for k, v in ids.items() if k != "kind"}, resource=arn))
        elif attr == "access_logs":
            notes.append(f"access logs of {arn} are not enabled (attribute access_logs.s3.enabled); its per-request "
                         "log cannot be read: enable it, or give -p access_logs=s3://bucket/prefix")
    return out, notes


def _distribution(dist: str, **kw: Any) -> tuple[list[Source], list[str]]:
    c = aws_client("cloudfront", **kw)
    logging = _call(c, "get_distribution_config", Id=dist)["DistributionConfig"].get("Logging") or {}
    if not logging.get("Enabled") or not logging.get("Bucket"):
        return [], [f"standard logging of distribution {dist} is off (or delivered as v2 logs): give -p access_logs=s3://bucket/prefix"]
    bucket = str(logging["Bucket"]).split(".s3")[0]
    return [Source(_s3_url(bucket, logging.get("Prefix")), "cloudfront_access", {"dist": dist}, resource=dist)], []


def _flow_logs(vpc: str, **kw: Any) -> tuple[list[Source], list[str]]:
    c = aws_client("ec2", **kw)
    flows = _call(c, "describe_flow_logs", Filters=[{"Name": "resource-id", "Values": [vpc]}]).get("FlowLogs", [])
    out, notes = [], []
    for f in flows:
        if f.get("LogDestinationType") != "s3":
            continue
        opts = f.get("DestinationOptions") or {}
        if opts.get("FileFormat") == "parquet" or opts.get("HiveCompatiblePartitions"):
            notes.append(f"flow log {f.get('FlowLogId')} writes Parquet or Hive-style partitions, which this reader does not read")
            continue
        bucket, _, prefix = str(f["LogDestination"]).split(":::", 1)[1].partition("/")
        layout = "vpc_flow_hourly" if opts.get("PerHourPartition") else "vpc_flow"
        out.append(Source(_s3_url(bucket, prefix), layout, {"flowlog": str(f["FlowLogId"]), **({"region": kw["region"]} if kw.get("region") else {})},
                          fields=f.get("LogFormat"), resource=vpc))
    if not out and not notes:
        notes.append(f"no flow log of {vpc} writes to S3: create one with destination s3, or give -p access_logs=vpc_flow:s3://...")
    return out, notes


def _web_acl(acl: str, **kw: Any) -> tuple[list[Source], list[str]]:
    m = _ACL_ARN.match(acl)
    if not m:
        raise ParameterError(f"web_acl must be a web ACL ARN (arn:aws:wafv2:...:regional/webacl/<name>/<id>), got {acl!r}")
    region = "us-east-1" if m["scope"] == "global" else m["region"]
    c = aws_client("wafv2", **{**kw, "region": region})
    try:
        conf = c.get_logging_configuration(ResourceArn=acl)["LoggingConfiguration"]
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "WAFNonexistentItemException":
            return [], [f"logging is off for web ACL {m['name']}: enable it to an S3 bucket named aws-waf-logs-*"]
        raise from_botocore(exc, service="wafv2", operation="GetLoggingConfiguration") from exc
    out = []
    for dest in conf.get("LogDestinationConfigs", []):
        if dest.startswith("arn:aws:s3:::"):
            bucket, _, prefix = dest.split(":::", 1)[1].partition("/")
            ids = {"account": m["account"], "region": "cloudfront" if m["scope"] == "global" else m["region"], "acl": m["name"]}
            out.append(Source(_s3_url(bucket, prefix), "waf", ids, resource=acl))
    return out, ([] if out else [f"web ACL {m['name']} logs to CloudWatch Logs or Firehose, not S3: read that log group instead"])
