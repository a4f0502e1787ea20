"""CloudTrail records -> rows of the change timeline (:data:`~incidentkit.schema.CHANGE_COLUMNS`).

One record becomes one row: its class, actor, resource, error and a compact, masked JSON
``detail``. :func:`parse_cloudtrail_records` does this for records read anywhere (a trail's S3
objects, a CloudWatch Logs group, LookupEvents). Re-exported by :mod:`incidentkit.fetch.changes`.

Example
-------
>>> rec = {"eventTime": "2026-03-01T03:00:00Z", "eventSource": "ec2.amazonaws.com",
...        "eventName": "RevokeSecurityGroupIngress", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops"},
...        "requestParameters": {"groupId": "sg-0abc"}}
>>> parse_cloudtrail_records([rec]).loc[0, "resource"]
'sg-0abc'
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .. import schema
from .change_classes import _NON_IAC, _READ_PREFIXES, changed_by, classify, normalize_event_name
from .change_detail import rule_ports
from ..errors import IncompleteDataWarning
from ..masking import mask_obj
from ..window import Window, utc_or_nat

# requestParameters keys naming the resource a call changed, in order of preference.
_RESOURCE_KEYS = (
    "functionName",
    "groupId",
    "targetGroupArn",
    "loadBalancerArn",
    "listenerArn",
    "ruleArn",
    "tableName",
    "dBInstanceIdentifier",
    "dBClusterIdentifier",
    "dBParameterGroupName",
    "restApiId",
    "apiId",
    "service",
    "cluster",
    "taskDefinition",
    "family",
    "deploymentGroupName",
    "applicationName",
    "healthCheckId",
    "hostedZoneId",
    "autoScalingGroupName",
    "resourceId",
    "networkAclId",
    "instanceId",
    "roleName",
    "userName",
    "policyArn",
    "bucketName",
    "stackName",
    "keyId",
    "alarmName",
    "name",
    "groupName",
)
_ERROR_MESSAGE_LIMIT = 300
_PARAMS_LIMIT = 600


def _resource_of(record: Mapping[str, Any], resources: Sequence[Mapping[str, Any]] | None = None) -> str | None:
    req = record.get("requestParameters")
    if isinstance(req, Mapping):
        for key in _RESOURCE_KEYS:
            value = req.get(key)
            if isinstance(value, str) and value:
                if key == "functionName" and value.startswith("arn:") and ":function:" in value:
                    return value.split(":function:", 1)[1].split(":", 1)[0]
                if key == "restApiId" and isinstance(req.get("stageName"), str):
                    return f"{value}/{req['stageName']}"
                if key == "service" and isinstance(req.get("cluster"), str):
                    cluster = req["cluster"].rsplit(":cluster/", 1)[-1]  # a cluster ARN or its name
                    return value if value.startswith("arn:") else f"{cluster}/{value}"
                if key == "deploymentGroupName" and isinstance(req.get("applicationName"), str):
                    return f"{req['applicationName']}/{value}"
                return value
        items = ((req.get("instancesSet") or {}).get("items") if isinstance(req.get("instancesSet"), Mapping) else None) or []
        ids = [i.get("instanceId") for i in items if isinstance(i, Mapping) and i.get("instanceId")]
        if ids:
            return ",".join(ids)
    # LookupEvents' own Resources list (ResourceType, ResourceName)
    for res in resources or ():
        name = res.get("ResourceName") if isinstance(res, Mapping) else None
        if name:
            return str(name)
    for block in ("requestParameters", "responseElements"):
        data = record.get(block)
        if isinstance(data, Mapping):
            for key, value in data.items():
                if isinstance(value, str) and value and key.lower().endswith(("arn", "id", "name")):
                    return value
    return None


def _actor_of(ui: Mapping[str, Any]) -> str | None:
    if not isinstance(ui, Mapping):
        return None
    if ui.get("arn"):
        return str(ui["arn"])
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") if isinstance(ui.get("sessionContext"), Mapping) else None
    if isinstance(issuer, Mapping) and issuer.get("arn"):
        return str(issuer["arn"])
    if ui.get("invokedBy"):
        return str(ui["invokedBy"])
    if ui.get("principalId"):
        return str(ui["principalId"])
    if ui.get("userName"):
        return str(ui["userName"])
    return str(ui.get("type")) if ui.get("type") else None


def _is_read_only(record: Mapping[str, Any], lookup_read_only: Any = None) -> bool:
    value = record.get("readOnly", lookup_read_only)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return normalize_event_name(record.get("eventName")).startswith(_READ_PREFIXES)


def _compact(value: Any, limit: int) -> Any:
    text = json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)
    if len(text) <= limit:
        return value
    return text[: limit - 1] + "…"


def _dumps(detail: Mapping[str, Any]) -> str:
    clean = {k: v for k, v in detail.items() if v is not None and v != "" and v != [] and v != {}}
    return json.dumps(clean, default=str, separators=(",", ":"), sort_keys=True)


def _row_from_record(record: Mapping[str, Any], *, event_time: Any = None, lookup: Mapping[str, Any] | None = None) -> dict[str, Any]:
    lookup = lookup or {}
    ui = record.get("userIdentity") if isinstance(record.get("userIdentity"), Mapping) else {}
    raw_name = record.get("eventName") or lookup.get("EventName") or ""
    source = record.get("eventSource") or lookup.get("EventSource") or ""
    req = record.get("requestParameters") if isinstance(record.get("requestParameters"), Mapping) else None
    api = normalize_event_name(raw_name)
    kind, tool = changed_by(ui, record.get("userAgent"))
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") if isinstance(ui.get("sessionContext"), Mapping) else None
    error_message = record.get("errorMessage")
    detail = {
        "api": api,
        "event_source": source,
        "region": record.get("awsRegion"),
        "event_id": record.get("eventID") or lookup.get("EventId"),
        "request_id": record.get("requestID"),
        "identity_type": ui.get("type"),
        "session_issuer": issuer.get("arn") if isinstance(issuer, Mapping) else None,
        "invoked_by": ui.get("invokedBy"),
        "user_agent": record.get("userAgent"),
        "source_ip": record.get("sourceIPAddress"),
        "changed_by": kind,
        "tool": tool,
        "non_iac": kind in _NON_IAC,
        "read_only": _is_read_only(record, lookup.get("ReadOnly")),
        "error_message": (str(error_message)[:_ERROR_MESSAGE_LIMIT] if error_message else None),
        # masked before it is cut to size: configuration holds secrets (Lambda environment variables, ECS task
        # environments, database passwords), and a cut could leave part of one past the masking's reach
        "params": _compact(mask_obj(req), _PARAMS_LIMIT) if req else None,
        # kept whole even when params are cut short: what matching a change to a finding reads
        "targets": _response_targets(record.get("responseElements")),
        "rules": [list(r) for r in rule_ports(req) or []] if req and ("SecurityGroup" in api or "NetworkAcl" in api) else None,
    }
    when = record.get("eventTime") or event_time or lookup.get("EventTime")
    # data events (S3 objects, DynamoDB items, Lambda invokes) are traffic, not changes
    data_event = record.get("eventCategory") == "Data" or record.get("managementEvent") is False
    return {
        "timestamp": when,
        "source": "cloudtrail",
        "event_name": raw_name,
        "class": "OTHER" if data_event else classify(source, raw_name, req),
        "actor": _actor_of(ui) or lookup.get("Username"),
        "resource": _resource_of(record, lookup.get("Resources")),
        "error_code": record.get("errorCode") or None,
        "detail": _dumps(detail),
    }


# ARNs a response names that the request may not (an event-source mapping's function, a table's ARN)
_RESPONSE_ARN_KEYS = frozenset({"functionArn", "FunctionArn", "targetGroupArn", "TargetGroupArn", "loadBalancerArn",
                                "LoadBalancerArn", "tableArn", "TableArn", "serviceArn", "stackId", "StackId"})


def _response_targets(response: Any, depth: int = 0) -> list[str] | None:
    """Resource ARNs named in ``responseElements`` (at most 5, three levels deep)."""
    found: list[str] = []
    if isinstance(response, Mapping) and depth <= 3:
        for key, value in response.items():
            if key in _RESPONSE_ARN_KEYS and isinstance(value, str) and value.startswith("arn:"):
                found.append(value)
            elif isinstance(value, (Mapping, list)):
                found.extend(_response_targets(value, depth + 1) or [])
    elif isinstance(response, list) and depth <= 3:
        for item in response[:10]:
            found.extend(_response_targets(item, depth + 1) or [])
    return list(dict.fromkeys(found))[:5] or None


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return schema.empty_frame("changes")
    df = pd.DataFrame(rows, columns=list(schema.CHANGE_COLUMNS))
    df["timestamp"] = schema.utc(df["timestamp"].astype(object).map(utc_or_nat))
    df = schema.conform(df, "changes", extra=False)
    return df.sort_values(["timestamp", "source", "event_name"], kind="stable", ignore_index=True)


def parse_cloudtrail_records(
    records: Iterable[Mapping[str, Any] | str | bytes],
    *,
    write_only: bool = True,
    window: Window | None = None,
) -> pd.DataFrame:
    """Classify CloudTrail records read from a trail's S3 objects or a CloudWatch Logs group.

    Parameters
    ----------
    records:
        CloudTrail records as dicts, or as JSON text (one record, or a ``{"Records": [...]}``
        document as a trail writes to S3). A logs frame's ``message`` column works as is.
    write_only:
        Keep only write events (``readOnly`` false; for old records without ``readOnly``,
        APIs not named ``Get*``/``List*``/``Describe*``...). Skipped read events are counted
        in ``df.attrs["parse_stats"]["read_only_skipped"]``.
    window:
        Keep only records inside the window (others counted as ``outside_window``).

    Returns
    -------
    pandas.DataFrame
        :data:`~incidentkit.schema.CHANGE_COLUMNS`, sorted by time. Failed calls keep their
        ``error_code``. Unparseable input is counted in ``parse_stats["errors"]`` and named in
        ``issues``, never dropped silently.

    Example
    -------
    >>> df = parse_cloudtrail_records(['{"eventTime":"2024-08-01T13:52:02Z",'
    ...     '"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2",'
    ...     '"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/dev"},'
    ...     '"requestParameters":{"functionName":"api"}}'])
    >>> df.loc[0, ["event_name", "class", "resource"]].tolist()
    ['UpdateFunctionCode20150331v2', 'DEPLOYMENT', 'api']
    """
    rows: list[dict[str, Any]] = []
    stats = {"records": 0, "kept": 0, "read_only_skipped": 0, "outside_window": 0, "errors": 0}
    issues: list[str] = []
    for item in _iter_records(records, stats, issues):
        stats["records"] += 1
        if write_only and _is_read_only(item):
            stats["read_only_skipped"] += 1
            continue
        row = _row_from_record(item)
        if window is not None:
            ts = utc_or_nat(row["timestamp"])
            if ts is pd.NaT or not (window.start <= ts < window.end):
                stats["outside_window"] += 1
                continue
        rows.append(row)
    df = _frame(rows)
    stats["kept"] = len(df)
    if stats["errors"]:
        issues.insert(0, f"{stats['errors']} CloudTrail record(s) could not be parsed and are not in the timeline")
        warnings.warn(issues[0], IncompleteDataWarning, stacklevel=2)
    df.attrs.update(
        schema.provenance(
            "changes.parse_cloudtrail_records",
            query={"write_only": write_only},
            window=window,
            complete=not stats["errors"],
            issues=issues,
            parse_stats=stats,
        )
    )
    return df


def _iter_records(records: Iterable[Any], stats: dict[str, int], issues: list[str]) -> Iterable[Mapping[str, Any]]:
    if isinstance(records, (str, bytes, Mapping)):
        records = [records]
    for i, item in enumerate(records):
        obj: Any = item
        if isinstance(item, (bytes, bytearray)):
            item = item.decode("utf-8", "replace")
        if isinstance(item, str):
            try:
                obj = json.loads(item)
            except ValueError as exc:
                stats["errors"] += 1
                if len(issues) < 5:
                    issues.append(f"record {i}: not JSON ({exc.msg} at char {exc.pos})")
                continue
        if isinstance(obj, Mapping) and isinstance(obj.get("Records"), list):
            for sub in obj["Records"]:
                if isinstance(sub, Mapping):
                    yield sub
                else:
                    stats["errors"] += 1
            continue
        if isinstance(obj, Mapping) and "CloudTrailEvent" in obj:  # a LookupEvents event
            inner = obj.get("CloudTrailEvent")
            try:
                rec = json.loads(inner) if isinstance(inner, str) else dict(inner or {})
            except ValueError:
                stats["errors"] += 1
                continue
            yield rec
            continue
        if isinstance(obj, Mapping) and ("eventName" in obj or "eventSource" in obj):
            yield obj
            continue
        stats["errors"] += 1
        if len(issues) < 5:
            issues.append(f"record {i}: not a CloudTrail record (no eventName/eventSource)")
