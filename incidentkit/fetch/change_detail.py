"""What one change of the timeline did: its kind, the resources it touched, the rules it edited, who made it.

A row of the change timeline (:data:`incidentkit.schema.CHANGE_COLUMNS`) carries the raw
CloudTrail name (``DeleteProvisionedConcurrencyConfig``, ``UpdateFunctionCode20150331v2``), a
coarse class, a resource and a JSON ``detail`` with the request parameters. Matching a change
to a finding needs more:

* :func:`change_kind` — what the change did, finer than the class: ``provisioned-concurrency``,
  ``code``, ``alias``, ``table-capacity``, ``security-group``, ``network-acl``,
  ``health-check``, ``target-group-attributes``, ``targets``, ``deployment`` ... (see
  :data:`KIND_LABELS`);
* :func:`touched` — every resource it names, in every spelling CloudTrail uses (a function by
  name in one call and by ARN with a ``qualifier`` parameter in the next, the function behind an
  event-source mapping from the response), as :class:`~incidentkit._util.resource_ids.ResourceRef`;
* :func:`rule_ports` — the protocol and port ranges a security-group or NACL call edited;
* :func:`incidentkit.analyses.change_words.describe` words it (blameless, without API-version suffixes).

Example
-------
>>> row = {"timestamp": "2026-09-01T18:26:41Z", "source": "cloudtrail",
...        "event_name": "DeleteProvisionedConcurrencyConfig", "class": "SCALING", "resource": "catalog-search",
...        "actor": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_FinOps_7d1e0c2b5a9f3e64/m@x.example",
...        "detail": '{"api":"DeleteProvisionedConcurrencyConfig","event_source":"lambda.amazonaws.com",'
...                  '"params":{"functionName":"catalog-search","qualifier":"live"}}'}
>>> change_kind(row), [r.label for r in touched(row)]
('provisioned-concurrency', ['catalog-search:live'])
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable, Mapping

import pandas as pd

from .._util import resource_ids
from .._util.resource_ids import ResourceRef

__all__ = [
    "KIND_LABELS",
    "detail_of",
    "params_of",
    "api_of",
    "change_kind",
    "touched",
    "rule_ports",
    "ports_of",
    "source_of",
]

#: What each change kind is called in prose.
KIND_LABELS: dict[str, str] = {
    "provisioned-concurrency": "provisioned concurrency",
    "reserved-concurrency": "reserved concurrency",
    "code": "code deploy",
    "alias": "alias change",
    "function-config": "function configuration",
    "event-source": "event source mapping",
    "table-capacity": "table capacity or mode",
    "table-config": "table settings",
    "security-group": "security-group edit",
    "network-acl": "network ACL edit",
    "network-route": "route change",
    "waf": "WAF rule change",
    "health-check": "health-check settings",
    "target-group-attributes": "target-group attributes",
    "target-group-config": "target-group settings",
    "targets": "target registration",
    "load-balancer": "load-balancer settings",
    "routing": "listener or rule change",
    "deployment": "deployment",
    "stack-deployment": "stack update",
    "deployment-config": "deployment configuration",
    "scaling": "scaling change",
    "database-config": "database configuration",
    "database-restart": "database restart or failover",
    "route53-health-check": "Route 53 health check",
    "dns": "DNS record change",
    "api-config": "API configuration",
    "api-auth": "API authorizer change",
    "config-deployment": "configuration deployment",
    "parameter": "parameter change",
    "alarm": "alarm change",
    "iam": "IAM change",
    "other": "change",
}

_VERSION_SUFFIX = re.compile(r"(\d{8})(v\d+)?$")


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


# --------------------------------------------------------------------------------------------
# reading a row
# --------------------------------------------------------------------------------------------


def detail_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's ``detail`` as a dict (``{}`` when missing or unreadable)."""
    raw = row.get("detail")
    if isinstance(raw, Mapping):
        return dict(raw)
    text = _text(raw)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def params_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters kept in the detail (``{}`` when absent or cut short)."""
    params = detail_of(row).get("params")
    return params if isinstance(params, dict) else {}


def api_of(row: Mapping[str, Any]) -> str:
    """The API name without CloudTrail's version suffix (``UpdateFunctionCode20150331v2`` → ``UpdateFunctionCode``)."""
    api = _text(detail_of(row).get("api")) or _text(row.get("event_name"))
    return _VERSION_SUFFIX.sub("", api)


def source_of(row: Mapping[str, Any]) -> str:
    """The service that made the row: ``lambda``, ``ec2``, ``codedeploy`` ... (CloudTrail's event source, else the row's source)."""
    es = _text(detail_of(row).get("event_source"))
    if es:
        return es.split(".", 1)[0]
    return _text(row.get("source"))


# --------------------------------------------------------------------------------------------
# what kind of change
# --------------------------------------------------------------------------------------------

_LAMBDA_KINDS = {
    "PutProvisionedConcurrencyConfig": "provisioned-concurrency",
    "DeleteProvisionedConcurrencyConfig": "provisioned-concurrency",
    "PutFunctionConcurrency": "reserved-concurrency",
    "DeleteFunctionConcurrency": "reserved-concurrency",
    "UpdateFunctionCode": "code",
    "CreateFunction": "code",
    "PublishVersion": "code",
    "PublishLayerVersion": "code",
    "DeleteFunction": "code",
    "VersionPublished": "code",
    "UpdateAlias": "alias",
    "CreateAlias": "alias",
    "DeleteAlias": "alias",
    "UpdateFunctionConfiguration": "function-config",
    "PutRuntimeManagementConfig": "function-config",
    "PutFunctionEventInvokeConfig": "function-config",
    "UpdateFunctionEventInvokeConfig": "function-config",
    "UpdateFunctionUrlConfig": "function-config",
    "CreateEventSourceMapping": "event-source",
    "UpdateEventSourceMapping": "event-source",
    "DeleteEventSourceMapping": "event-source",
    "AddPermission": "iam",
    "RemovePermission": "iam",
}
_ELB_KINDS = {
    "ModifyTargetGroupAttributes": "target-group-attributes",
    "RegisterTargets": "targets",
    "DeregisterTargets": "targets",
    "SetSecurityGroups": "security-group",
    "ModifyLoadBalancerAttributes": "load-balancer",
    "SetSubnets": "load-balancer",
    "ModifyListener": "routing",
    "ModifyListenerAttributes": "routing",
    "CreateListener": "routing",
    "DeleteListener": "routing",
    "ModifyRule": "routing",
    "CreateRule": "routing",
    "DeleteRule": "routing",
    "SetRulePriorities": "routing",
}
_TABLE_CAPACITY_KEYS = ("provisionedThroughput", "billingMode", "globalSecondaryIndexUpdates", "onDemandThroughput",
                        "ProvisionedThroughput", "BillingMode", "GlobalSecondaryIndexUpdates", "OnDemandThroughput")
_HEALTH_CHECK_KEY = re.compile(r"(?i)^healthCheck|^(un)?healthyThresholdCount$|^matcher$")


def _by_service(source: str, api: str, params: Mapping[str, Any], cls: str) -> str | None:
    if source == "lambda":
        if api == "FunctionModified":
            return "code" if cls == "DEPLOYMENT" else "function-config"
        return _LAMBDA_KINDS.get(api)
    if source == "application-autoscaling":
        text = f"{params.get('serviceNamespace', '')} {params.get('scalableDimension', '')} {params.get('resourceId', '')}".lower()
        if "lambda" in text or text.strip().startswith("function:"):
            return "provisioned-concurrency"
        return "table-capacity" if "dynamodb" in text or "table/" in text else "scaling"
    if source == "dynamodb":
        if api in ("UpdateTable", "UpdateTableReplicaAutoScaling") and (
                api != "UpdateTable" or any(k in params for k in _TABLE_CAPACITY_KEYS) or not params):
            return "table-capacity"
        return "table-config"
    if source == "ec2":
        if "SecurityGroup" in api or (api in ("ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute")
                                      and ("groupSet" in params or "groups" in params)):
            return "security-group"
        if "NetworkAcl" in api:
            return "network-acl"
        return "network-route" if api.endswith("Route") else None
    if source == "elasticloadbalancing":
        if api == "ModifyTargetGroup":
            return "health-check" if any(_HEALTH_CHECK_KEY.match(k) for k in params) or not params else "target-group-config"
        return _ELB_KINDS.get(api)
    if source in ("wafv2", "waf", "waf-regional", "network-firewall"):
        return "waf"
    if source == "route53":
        return "dns" if api == "ChangeResourceRecordSets" else "route53-health-check"
    if source == "codedeploy":
        return "deployment-config" if "DeploymentGroup" in api else "deployment"
    if source == "ecs":
        return "scaling" if cls == "SCALING" else "deployment"
    if source == "cloudformation":
        return "stack-deployment"
    if source == "rds":
        return "database-restart" if api.startswith(("Reboot", "Failover")) else "database-config"
    if source == "apigateway":
        if "Authorizer" in api:
            return "api-auth"
        return "deployment" if api in ("CreateDeployment", "PutRestApi", "ImportRestApi") else "api-config"
    return {"appconfig": "config-deployment", "ssm": "parameter", "monitoring": "alarm", "iam": "iam", "sts": "iam",
            "autoscaling": "deployment" if "InstanceRefresh" in api else "scaling"}.get(source)


def change_kind(row: Mapping[str, Any]) -> str:
    """What a change did (a key of :data:`KIND_LABELS`), from its API, service and parameters.

    Example
    -------
    >>> change_kind({"event_name": "UpdateTable", "detail": '{"event_source":"dynamodb.amazonaws.com",'
    ...              '"params":{"tableName":"orders","billingMode":"PAY_PER_REQUEST"}}'})
    'table-capacity'
    >>> change_kind({"event_name": "ReplaceNetworkAclEntry", "class": "SECURITY_CHANGE"})
    'network-acl'
    """
    api = api_of(row)
    cls = _text(row.get("class")).upper()
    kind = _by_service(source_of(row), api, params_of(row), cls)
    if kind is not None:
        return kind
    for source in ("lambda", "ec2", "elasticloadbalancing", "dynamodb", "route53"):  # no event source: try each
        kind = _by_service(source, api, params_of(row), cls)
        if kind is not None and (source != "route53" or "HealthCheck" in api or api == "ChangeResourceRecordSets"):
            if source == "dynamodb" and not api.startswith("UpdateTable"):
                continue
            if source == "ec2" and kind == "network-route" and cls != "CONFIG_CHANGE":
                continue
            return kind
    return {"DEPLOYMENT": "deployment", "SCALING": "scaling", "IAM": "iam"}.get(cls, "other")


# --------------------------------------------------------------------------------------------
# which resources
# --------------------------------------------------------------------------------------------

_PARAM_KINDS = (
    ("functionName", "function"),
    ("FunctionName", "function"),
    ("targetGroupArn", "target_group"),
    ("loadBalancerArn", "load_balancer"),
    ("groupId", "security_group"),
    ("networkAclId", "network_acl"),
    ("tableName", "table"),
    ("TableName", "table"),
    ("dBInstanceIdentifier", "db_instance"),
    ("dBClusterIdentifier", "db_cluster"),
    ("dBParameterGroupName", "db_parameter_group"),
    ("healthCheckId", "health_check"),
    ("stackName", "stack"),
    ("alarmName", "alarm"),
    ("uUID", "event_source_mapping"),
    ("UUID", "event_source_mapping"),
)
#: ARNs a response names (CloudTrail ``responseElements``), kept by :mod:`incidentkit.fetch.changes` as ``targets``.
_RESOURCE_KIND_BY_SOURCE = {
    "lambda": "function",
    "dynamodb": "table",
    "ecs": "ecs_service",
    "codedeploy": "deployment_group",
    "rds": "db_instance",
    "cloudformation": "stack",
}


#: What a change of each kind changed, when the row does not say which service made it.
_RESOURCE_KIND_BY_CHANGE = {
    "code": "function", "alias": "function", "function-config": "function", "provisioned-concurrency": "function",
    "reserved-concurrency": "function", "table-capacity": "table", "table-config": "table", "health-check": "target_group",
    "target-group-attributes": "target_group", "target-group-config": "target_group", "targets": "target_group",
}


def _refs_from_params(params: Mapping[str, Any], api: str) -> list[ResourceRef]:
    out: list[ResourceRef] = []
    for key, kind in _PARAM_KINDS:
        value = params.get(key)
        if isinstance(value, str) and value:
            ref = resource_ids.parse(value, kind)
            if ref is not None and ref.kind == "function" and not ref.qualifier:
                qual = params.get("qualifier") or params.get("Qualifier")
                if not qual and api in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
                    qual = params.get("name") or params.get("Name")
                if isinstance(qual, str) and qual:
                    ref = ResourceRef("function", ref.name, qual, region=ref.region, account=ref.account)
            if ref is not None:
                out.append(ref)
    groups = params.get("groupIds") or params.get("securityGroups")
    for g in groups if isinstance(groups, list) else []:
        ref = resource_ids.parse(g, "security_group") if isinstance(g, str) else None
        if ref is not None:
            out.append(ref)
    if isinstance(params.get("service"), str):
        cluster = params.get("cluster")
        ref = resource_ids.parse(params["service"], "ecs_service")
        if ref is not None and isinstance(cluster, str) and not ref.scope:
            cref = resource_ids.parse(cluster, "ecs_cluster")
            ref = ResourceRef("ecs_service", ref.name, scope=cref.name if cref else cluster, region=ref.region, account=ref.account)
        if ref is not None:
            out.append(ref)
    for key, kind in (("restApiId", "api"), ("apiId", "api")):
        if isinstance(params.get(key), str):
            stage = params.get("stageName")
            out.append(ResourceRef("api", params[key], stage if isinstance(stage, str) else None))
    if isinstance(params.get("applicationName"), str) and isinstance(params.get("deploymentGroupName"), str):
        out.append(ResourceRef("deployment_group", params["deploymentGroupName"], scope=params["applicationName"]))
    rid = params.get("resourceId")
    if isinstance(rid, str) and rid:  # Application Auto Scaling: function:name:alias, table/name, service/cluster/name
        head, _, rest = rid.partition(":" if rid.startswith("function:") else "/")
        kind = {"function": "function", "table": "table", "service": "ecs_service"}.get(head)
        if kind:
            ref = resource_ids.parse(rest, kind)
            if ref is not None:
                out.append(ref)
    return out


def touched(row: Mapping[str, Any]) -> list[ResourceRef]:
    """Every resource a change names: its parameters, the ARNs of its response, its ``resource``.

    Example
    -------
    >>> row = {"event_name": "UpdateEventSourceMapping20150331", "resource": "6d3f1e2a",
    ...        "detail": '{"event_source":"lambda.amazonaws.com","params":{"uUID":"6d3f1e2a"},'
    ...                  '"targets":["arn:aws:lambda:us-east-1:123456789012:function:writer"]}'}
    >>> sorted(r.kind + " " + r.label for r in touched(row))
    ['event_source_mapping 6d3f1e2a', 'function writer']
    """
    detail = detail_of(row)
    api = api_of(row)
    refs = _refs_from_params(params_of(row), api)
    for arn in detail.get("targets") or []:
        ref = resource_ids.from_arn(str(arn))
        if ref is not None:
            refs.append(ref)
    if isinstance(detail.get("function"), str):  # the timeline's own Lambda rows
        refs.append(ResourceRef("function", detail["function"]))
        for alias in detail.get("aliases") or []:
            refs.append(ResourceRef("function", detail["function"], str(alias).split(" ")[0]))
    resource = _text(row.get("resource"))
    known = {r.name for r in refs} | {r.label for r in refs}
    if resource and resource not in known:
        kind = _RESOURCE_KIND_BY_SOURCE.get(source_of(row)) or _RESOURCE_KIND_BY_CHANGE.get(change_kind(row))
        if source_of(row) == "ecs" and api in ("RegisterTaskDefinition", "DeregisterTaskDefinition"):
            kind = "task_definition"
        for part in resource.split(","):
            ref = resource_ids.parse(part.strip()) or (resource_ids.parse(part.strip(), kind) if kind else None)
            if ref is not None:
                refs.append(ref)
    out: list[ResourceRef] = []
    for ref in refs:
        # keep the most specific spelling: `fn:live` makes a bare `fn` from the same call redundant
        if any(o == ref or (o.matches(ref) and (o.qualifier or o.unique_id or o.scope)) for o in out):
            continue
        out = [o for o in out if not (ref.matches(o) and (ref.qualifier or ref.unique_id or ref.scope))] + [ref]
    return out


# --------------------------------------------------------------------------------------------
# rules of a security-group / NACL call
# --------------------------------------------------------------------------------------------

_PORT_KEYS = (("fromPort", "toPort"), ("FromPort", "ToPort"), ("from_port", "to_port"), ("from", "to"))
_PROTO_KEYS = ("ipProtocol", "IpProtocol", "protocol", "Protocol")


def _walk(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _proto(value: Any) -> str:
    text = _text(value).lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "-1": "all", "": "all"}.get(text, text)


def rule_ports(params: Mapping[str, Any] | str | None) -> list[tuple[str, int, int]] | None:
    """The ``(protocol, from_port, to_port)`` ranges a security-group or NACL call names.

    Reads the CloudTrail shapes (``ipPermissions.items[]``, ``ModifySecurityGroupRulesRequest``,
    a NACL entry's ``portRange``) and the SDK shapes (``IpPermissions``); protocol ``-1`` means
    every port (0-65535). Returns None when the call names no port at all (a revoke by rule id
    only): then the ports are unknown, which is not "no port".

    Example
    -------
    >>> rule_ports({"groupId": "sg-1", "ipPermissions": {"items": [
    ...     {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80}, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}]}})
    [('tcp', 80, 80), ('tcp', 443, 443)]
    >>> rule_ports({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "-1"}]}})
    [('all', 0, 65535)]
    >>> rule_ports({"groupId": "sg-1", "securityGroupRuleIds": {"items": ["sgr-1"]}}) is None
    True
    """
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return _ports_from_text(params)
    if not isinstance(params, Mapping):
        return None
    out: list[tuple[str, int, int]] = []
    for node in _walk(params):
        proto_key = next((k for k in _PROTO_KEYS if k in node), None)
        ports = None
        for lo_key, hi_key in _PORT_KEYS:
            if lo_key in node:
                ports = (node.get(lo_key), node.get(hi_key, node.get(lo_key)))
                break
        if ports is None and isinstance(node.get("portRange"), Mapping):
            pr = node["portRange"]
            ports = (pr.get("from"), pr.get("to", pr.get("from")))
        if proto_key is None and ports is None:
            continue
        if proto_key is None and node is not params and any(k in node for k in ("from", "to")) and "portRange" not in node:
            continue  # the inside of a portRange: counted with its parent
        proto = _proto(node.get(proto_key)) if proto_key else "tcp"
        try:
            lo, hi = (int(float(ports[0])), int(float(ports[1]))) if ports is not None else (0, 65535)
        except (TypeError, ValueError):
            lo, hi = 0, 65535
        if proto == "all" or lo == -1:
            lo, hi = 0, 65535
        item = (proto, lo, hi)
        if item not in out:
            out.append(item)
    return out or None


def ports_of(row: Mapping[str, Any]) -> list[tuple[str, int, int]] | None:
    """The port ranges a change edited: the ``rules`` the timeline kept, else read from its parameters.

    Example
    -------
    >>> ports_of({"detail": {"rules": [["tcp", 443, 443]], "params": '{"groupId":"sg-1","ipPermissions":{"ite…'}})
    [('tcp', 443, 443)]
    """
    detail = detail_of(row)
    rules = detail.get("rules")
    if isinstance(rules, list) and rules:
        out = []
        for r in rules:
            if isinstance(r, (list, tuple)) and len(r) == 3:
                try:
                    out.append((str(r[0]), int(r[1]), int(r[2])))
                except (TypeError, ValueError):
                    continue
        if out:
            return out
    params = detail.get("params")
    return rule_ports(params if isinstance(params, (dict, str)) else None)


_TEXT_PORTS = re.compile(r"\"?(?:fromPort|FromPort|from_port)\"?\s*[:=]\s*\"?(-?\d+)[^{}]*?\"?(?:toPort|ToPort|to_port)\"?\s*[:=]\s*\"?(-?\d+)")


def _ports_from_text(text: str) -> list[tuple[str, int, int]] | None:
    """Port ranges from a cut-short parameter text (old evidence kept a truncated JSON string)."""
    out = []
    for lo, hi in _TEXT_PORTS.findall(text or ""):
        a, b = int(lo), int(hi)
        item = ("tcp", 0, 65535) if a == -1 else ("tcp", a, b)
        if item not in out:
            out.append(item)
    return out or None
