"""From an alarm's metric (namespace and dimensions) to the template parameters AWS's naming makes certain."""

from __future__ import annotations

from typing import Any, Mapping

from .model import AlarmMetric


def parameters_for_metric(metric: AlarmMetric, *, region: str | None = None, account: str | None = None) -> dict[str, Any]:
    """Map one metric's namespace and dimensions to template parameters.

    Returns only what AWS's naming makes certain. Unknown namespaces give ``{}``.

    Example
    -------
    >>> parameters_for_metric(AlarmMetric("AWS/ApplicationELB", "HTTPCode_ELB_502_Count",
    ...     (("LoadBalancer", "app/web/50dc6c495c0c9188"), ("TargetGroup", "targetgroup/web/73e2d6bc24d8a067"))),
    ...     region="us-east-1", account="123456789012")["target_group_arn"]
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067'
    """
    d = metric.dims
    ns = metric.namespace
    out: dict[str, Any] = {}
    if ns == "AWS/Lambda":
        fn = d.get("FunctionName") or (d.get("Resource", "").split(":")[0] or None)
        if fn:
            out["function_name"] = fn
            out["log_groups"] = [f"/aws/lambda/{fn}"]
    elif ns == "AWS/ApiGateway":
        if "ApiId" in d:
            out["api_id"] = d["ApiId"]
        elif "ApiName" in d:
            out["api_name"] = d["ApiName"]  # REST APIs publish their metrics per API name
        if "Stage" in d:
            out["stage"] = d["Stage"]
    elif ns in ("AWS/ApplicationELB", "AWS/NetworkELB"):
        if "LoadBalancer" in d:
            out["load_balancer"] = d["LoadBalancer"]
        if "TargetGroup" in d:
            tg = d["TargetGroup"]
            if region and account and not tg.startswith("arn:"):
                out["target_group_arn"] = f"arn:aws:elasticloadbalancing:{region}:{account}:{tg}"
            else:
                out["target_group_arn"] = tg
    elif ns == "AWS/DynamoDB":
        if "TableName" in d:
            out["table_name"] = d["TableName"]
    elif ns == "AWS/RDS":
        if "DBInstanceIdentifier" in d:
            out["db_instance"] = d["DBInstanceIdentifier"]
    elif ns == "AWS/Route53":
        if "HealthCheckId" in d:
            out["health_check_id"] = d["HealthCheckId"]
    elif ns == "AWS/ECS":
        if "ClusterName" in d:
            out["ecs_cluster"] = d["ClusterName"]
        if "ServiceName" in d:
            out["ecs_service"] = d["ServiceName"]
    elif ns == "AWS/EC2":
        if "InstanceId" in d:
            out["instance_ids"] = [d["InstanceId"]]
    return out


def _merge(params: dict[str, Any], sources: dict[str, str], new: Mapping[str, Any], why: str, notes: list[str]) -> None:
    for key, value in new.items():
        if isinstance(value, list):  # log_groups, instance_ids: every metric adds to the list
            items = params.setdefault(key, [])
            for v in value:
                if v not in items:
                    items.append(v)
            sources[key] = "; ".join(filter(None, [sources.get(key), why]))
        elif key not in params:
            params[key] = value
            sources[key] = why
        elif params[key] != value:
            notes.append(f"{key}: kept {params[key]!r}; the alarm also names {value!r} ({why})")
