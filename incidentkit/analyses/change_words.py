"""A change in words: what it did, to which resource, when and by whom — blameless, without API-version suffixes.

:func:`describe` turns one change-timeline row into the sentence a summary, a postmortem and
a remediation quote ("provisioned concurrency on ``catalog-search:live`` was deleted
(DeleteProvisionedConcurrencyConfig) at 18:26 UTC on 2026-09-01 by role AWSReservedSSO_FinOps");
:func:`blameless_actor` says who made it without naming a person; :func:`when_text` says when,
with the date only when it is not the reader's day.

Example
-------
>>> describe({"timestamp": "2026-03-10T02:47:12Z", "event_name": "UpdateFunctionCode20150331v2",
...           "resource": "shop-jwt-authorizer", "actor": "arn:aws:sts::123456789012:assumed-role/deploy/ci-42",
...           "detail": '{"event_source":"lambda.amazonaws.com","params":{"functionName":"shop-jwt-authorizer"}}'},
...          reference="2026-03-10T02:30:00Z")
'new code was deployed to `shop-jwt-authorizer` (UpdateFunctionCode) at 02:47 UTC by role deploy'
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import pandas as pd

from .._util.blameless import blameless_actor
from ..fetch.change_detail import KIND_LABELS, api_of, change_kind, detail_of, params_of, ports_of, source_of, touched
from .._util.resource_ids import ResourceRef

__all__ = ["blameless_actor", "when_text", "describe", "utc_time"]


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


# --------------------------------------------------------------------------------------------
# in words
# --------------------------------------------------------------------------------------------


def utc_time(value: Any) -> pd.Timestamp | None:
    """A time as a UTC ``Timestamp`` (naive means UTC); None when missing or unreadable.

    Example
    -------
    >>> utc_time("2026-09-01T18:26:41"), utc_time(None)
    (Timestamp('2026-09-01 18:26:41+0000', tz='UTC'), None)
    """
    if value is None or value is pd.NA:
        return None
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def when_text(value: Any, reference: Any = None) -> str:
    """``at 18:26 UTC``, with the date when it is not the reference's day (``at 18:26 UTC on 2026-09-01``).

    Example
    -------
    >>> when_text("2026-09-01T18:26:41Z", "2026-09-01T20:00:00Z"), when_text("2026-09-01T18:26:41Z", "2026-09-02T00:00:00Z")
    ('at 18:26 UTC', 'at 18:26 UTC on 2026-09-01')
    """
    t = utc_time(value)
    if t is None:
        return "at an unknown time"
    ref = utc_time(reference)
    day = "" if ref is not None and ref.date() == t.date() else f" on {t:%Y-%m-%d}"
    return f"at {t:%H:%M} UTC{day}"


def _ports_text(ports: list[tuple[str, int, int]] | None) -> str:
    if not ports:
        return ""
    parts = []
    for proto, lo, hi in ports[:4]:
        if (lo, hi) == (0, 65535):
            parts.append("all traffic" if proto == "all" else f"{proto.upper()} all ports")
        else:
            parts.append(f"{proto.upper()} {lo}" + (f"-{hi}" if hi != lo else ""))
    return ", ".join(parts) + (f" (+{len(ports) - 4} more)" if len(ports) > 4 else "")


_SETTING_WORDS = {
    "healthCheckIntervalSeconds": ("interval", " s"), "healthCheckTimeoutSeconds": ("timeout", " s"),
    "healthyThresholdCount": ("healthy threshold", ""), "unhealthyThresholdCount": ("unhealthy threshold", ""),
    "healthCheckPath": ("path", ""), "healthCheckPort": ("port", ""), "billingMode": ("billing mode", ""),
    "readCapacityUnits": ("read capacity", " units/s"), "writeCapacityUnits": ("write capacity", " units/s"),
}


def _settings_text(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    """``interval 5 s, timeout 2 s`` for the keys present (scalar values only)."""
    shown = []
    for k in keys:
        if k in params and not isinstance(params[k], (dict, list)):
            word, unit = _SETTING_WORDS.get(k, (k, ""))
            shown.append(f"{word} {params[k]}{unit}")
    return ", ".join(shown)


def _what(row: Mapping[str, Any], kind: str, api: str, target: str) -> str:
    """The part of the sentence that says what changed (no time, no actor)."""
    params = params_of(row)
    on = f"`{target}`" if target else "a resource the change does not name"
    if kind == "provisioned-concurrency":
        n = params.get("provisionedConcurrentExecutions")
        if api.startswith("Delete") or api.startswith("Deregister"):
            return f"provisioned concurrency on {on} was deleted"
        return f"provisioned concurrency on {on} was set to {n}" if n is not None else f"provisioned concurrency on {on} was changed"
    if kind == "reserved-concurrency":
        n = params.get("reservedConcurrentExecutions")
        return (f"reserved concurrency on {on} was removed" if api.startswith("Delete")
                else f"reserved concurrency on {on} was set to {n}" if n is not None else f"reserved concurrency on {on} was changed")
    if kind == "code":
        if api in ("PublishVersion", "VersionPublished"):
            version = detail_of(row).get("version")
            name, _, qualifier = target.partition(":")
            version = version or qualifier
            return f"version {version} of `{name}` was published" if version else f"a new version of {on} was published"
        return f"new code was deployed to {on}" if api != "DeleteFunction" else f"{on} was deleted"
    if kind == "alias":
        v = params.get("functionVersion")
        name, _, alias = target.partition(":")
        # "alias `live` of `fn`", not "`fn:live`": a function named like a credential (`shop-jwt-authorizer`)
        # followed by ":live" reads as name: value to the masking of every written byte
        on = f"`{alias}` of `{name}`" if alias and not target.startswith("arn:") else on
        return f"alias {on} was pointed at version {v}" if v else f"alias {on} was changed"
    if kind in ("security-group", "network-acl"):
        noun = "security group" if kind == "security-group" else "network ACL"
        verbs = (("Revoke", "rules were revoked from"), ("Authorize", "rules were added to"), ("Delete", "an entry was deleted from"),
                 ("Replace", "an entry was replaced in"), ("Create", "an entry was added to"))
        verb = next((v for k, v in verbs if api.startswith(k)), None)
        ports = _ports_text(ports_of(row))
        head = f"{verb} {noun} {on}" if verb else f"{noun} {on} was changed"
        return head + (f" ({ports})" if ports else "")
    if kind == "health-check":
        shown = _settings_text(params, ("healthCheckIntervalSeconds", "healthCheckTimeoutSeconds", "healthyThresholdCount",
                                        "unhealthyThresholdCount", "healthCheckPath", "healthCheckPort"))
        return f"the health check of {on} was set to {shown}" if shown else f"the health check of {on} was changed"
    if kind == "target-group-attributes":
        attrs = params.get("attributes")
        items = attrs if isinstance(attrs, list) else (attrs or {}).get("items") if isinstance(attrs, Mapping) else []
        shown = ", ".join(f"{a.get('key')}={a.get('value')}" for a in items or [] if isinstance(a, Mapping))
        return f"attributes of {on} were changed" + (f" ({shown})" if shown else "")
    if kind == "targets":
        return f"targets were {'deregistered from' if api.startswith('Deregister') else 'registered with'} {on}"
    if kind == "table-capacity":
        pt = params.get("provisionedThroughput") if isinstance(params.get("provisionedThroughput"), Mapping) else {}
        shown = _settings_text({**params, **pt}, ("billingMode", "readCapacityUnits", "writeCapacityUnits"))
        return f"the capacity of table {on} was set to {shown}" if shown else f"the capacity of table {on} was changed"
    if kind == "function-config":
        keys = [k for k in params if k not in ("functionName", "FunctionName")]
        return f"the configuration of {on} was changed" + (f" ({', '.join(keys[:4])})" if keys else "")
    if kind == "event-source":
        scaling = params.get("scalingConfig") if isinstance(params.get("scalingConfig"), Mapping) else {}
        shown = ", ".join(f"{word} {value}" for word, value in (("batch size", params.get("batchSize")),
                                                               ("maximum concurrency", scaling.get("maximumConcurrency")),
                                                               ("enabled", params.get("enabled"))) if value is not None)
        return f"the event source mapping of {on} was changed" + (f" ({shown})" if shown else "")
    if kind == "deployment":
        return _deployment_what(row, api, on, params)
    if kind in ("stack-deployment", "config-deployment"):
        return f"{on} was updated"
    return f"{KIND_LABELS.get(kind, 'change')} on {on}"


_DEPLOY_ENDS = {"DeploymentSucceeded": "succeeded", "DeploymentFailed": "failed", "DeploymentStopped": "was stopped",
                "ServiceDeploymentCompleted": "completed", "ServiceDeploymentFailed": "failed"}


def _deployment_what(row: Mapping[str, Any], api: str, on: str, params: Mapping[str, Any]) -> str:
    source = source_of(row)
    if source == "codedeploy":
        return f"a CodeDeploy deployment of {on} " + _DEPLOY_ENDS.get(api, "started")
    if source == "ecs":
        td = params.get("taskDefinition") or detail_of(row).get("task_definition")
        if api.startswith("ServiceDeployment"):
            return f"a deployment of ECS service {on} " + _DEPLOY_ENDS.get(api, "started")
        if api == "RegisterTaskDefinition":
            return f"a new revision of task definition {on} was registered"
        return f"ECS service {on} was updated" + (f" to task definition {str(td).rsplit('/', 1)[-1]}" if td else "")
    if source == "apigateway":
        stage = params.get("stageName")
        return f"API {on} was deployed" + (f" to stage {stage}" if stage else "")
    return f"{on} was deployed"


def describe(row: Mapping[str, Any], *, reference: Any = None, target: ResourceRef | str | None = None) -> str:
    """One blameless sentence (lower-case start) saying what the change did, when and by whom.

    Parameters
    ----------
    row:
        A change-timeline row (a dict or a pandas row).
    reference:
        A time whose day need not be repeated (usually the incident window's start).
    target:
        The resource to name (default: the most specific one the change names).

    Example
    -------
    >>> describe({"timestamp": "2026-05-21T13:58:00Z", "event_name": "RevokeSecurityGroupIngress",
    ...           "resource": "sg-0a1b2c3d4e5f60718", "actor": "arn:aws:iam::123456789012:user/ops",
    ...           "detail": '{"event_source":"ec2.amazonaws.com","params":{"groupId":"sg-0a1b2c3d4e5f60718",'
    ...                     '"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443}]}}}'},
    ...          reference="2026-05-21T13:30:00Z")
    'rules were revoked from security group `sg-0a1b2c3d4e5f60718` (TCP 443; RevokeSecurityGroupIngress) at 13:58 UTC by an IAM user'
    """
    api = api_of(row)
    kind = change_kind(row)
    if isinstance(target, ResourceRef):
        label = target.label
    elif isinstance(target, str):
        label = target
    else:
        refs = touched(row)
        best = max(refs, key=lambda r: (r.kind not in ("event_source_mapping", "task_definition"), bool(r.qualifier)), default=None)
        label = best.label if best is not None else _text(row.get("resource"))
    what = _what(row, kind, api, label)
    what = what[0].lower() + what[1:] if what else what
    err = _text(row.get("error_code"))
    failed = f" — it failed ({err}) and did not apply" if err else ""
    named = f"{what[:-1]}; {api})" if what.endswith(")") else f"{what} ({api})"
    return f"{named} {when_text(row.get('timestamp'), reference)} by {blameless_actor(row.get('actor'))}{failed}"
