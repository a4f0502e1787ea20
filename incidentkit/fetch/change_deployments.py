"""Deployments on the change timeline: CodeDeploy deployments, Lambda versions and aliases, ECS roll-outs.

One fetcher a source (``_fetch_codedeploy``, ``_fetch_lambda``, ``_fetch_ecs``), each turning what
the service still lists into timeline rows (``_codedeploy_rows``, ``_lambda_rows``,
``_ecs_rows``); :func:`incidentkit.fetch.changes.timeline` calls them for the sources asked.

Example
-------
>>> rows = _codedeploy_rows({"applicationName": "api", "deploymentGroupName": "prod", "deploymentId": "d-1",
...                          "createTime": "2026-03-01T03:00:00Z", "status": "InProgress"})
>>> [r["event_name"] for r in rows]
['DeploymentCreated']
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from . import aws
from .._util import resource_ids
from .._util.fmt import iso as _iso
from ..errors import ParameterError
from ..window import Window, utc_or_nat
from .._util.resource_ids import names as resource_names
from .change_calls import _call, _paged, _Stats
from .change_records import _ERROR_MESSAGE_LIMIT, _dumps

def _fetch_codedeploy(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    client = aws.client("codedeploy", **kw)
    apps = resource_names(res.get("codedeploy_application"))
    groups = resource_names(res.get("codedeploy_deployment_group"))
    if groups and len(apps) != 1:
        raise ParameterError("codedeploy_deployment_group needs exactly one codedeploy_application")
    scopes: list[dict[str, Any]] = []
    if not apps:
        scopes.append({})  # every deployment of the account and region
    for app in apps:
        # ListDeployments takes an application only together with a deployment group
        app_groups = groups or _deployment_groups(client, app, stats)
        scopes.extend({"applicationName": app, "deploymentGroupName": g} for g in app_groups)
    ids: list[str] = []
    for scope in scopes:
        params: dict[str, Any] = dict(scope)
        params["createTimeRange"] = {"start": win.start.to_pydatetime(), "end": win.end.to_pydatetime()}
        context = {"scope": scope or "account"}
        ids.extend(_paged(client, "list_deployments", stats, "codedeploy", context, params, items="deployments", token="nextToken"))
    ids = list(dict.fromkeys(ids))
    rows: list[dict[str, Any]] = []
    for i in range(0, len(ids), 25):
        resp = _call(client, "batch_get_deployments", stats, "codedeploy", {}, deploymentIds=ids[i : i + 25])
        for d in resp.get("deploymentsInfo") or []:
            rows.extend(_codedeploy_rows(d))
    return rows


def _deployment_groups(client: Any, app: str, stats: _Stats) -> list[str]:
    params = {"applicationName": app}
    return _paged(client, "list_deployment_groups", stats, "codedeploy", {"application": app}, params,
                  items="deploymentGroups", token="nextToken")  # fmt: skip


_CODEDEPLOY_END = {"Succeeded": "DeploymentSucceeded", "Failed": "DeploymentFailed", "Stopped": "DeploymentStopped"}


def _codedeploy_rows(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    app, group = d.get("applicationName"), d.get("deploymentGroupName")
    resource = f"{app}/{group}" if group else app
    err = d.get("errorInformation") or {}
    rollback = d.get("rollbackInfo") or {}
    detail = {
        "deployment_id": d.get("deploymentId"),
        "status": d.get("status"),
        "compute_platform": d.get("computePlatform"),
        "deployment_config": d.get("deploymentConfigName"),
        "creator": d.get("creator"),
        "description": d.get("description"),
        "create_time": _iso(d.get("createTime")),
        "start_time": _iso(d.get("startTime")),
        "complete_time": _iso(d.get("completeTime")),
        "error_message": (str(err.get("message"))[:_ERROR_MESSAGE_LIMIT] if err.get("message") else None),
        "rollback_deployment_id": rollback.get("rollbackDeploymentId"),
        "rollback_triggering_deployment_id": rollback.get("rollbackTriggeringDeploymentId"),
        "overview": d.get("deploymentOverview"),
    }
    actor = {"user": "user", "autoscaling": "autoscaling", "codeDeployRollback": "codedeploy-rollback"}.get(
        str(d.get("creator")), d.get("creator")
    )
    out = [
        {
            "timestamp": d.get("createTime"),
            "source": "codedeploy",
            "event_name": "DeploymentCreated",
            "class": "DEPLOYMENT",
            "actor": actor,
            "resource": resource,
            "error_code": None,
            "detail": _dumps(detail),
        }
    ]
    end_name = _CODEDEPLOY_END.get(str(d.get("status")))
    if end_name and d.get("completeTime") is not None:
        out.append(
            {
                "timestamp": d.get("completeTime"),
                "source": "codedeploy",
                "event_name": end_name,
                "class": "DEPLOYMENT",
                "actor": actor,
                "resource": resource,
                "error_code": err.get("code") or ("DeploymentStopped" if end_name == "DeploymentStopped" else None),
                "detail": _dumps(detail),
            }
        )
    return out


def _fetch_lambda(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    functions = resource_names(res.get("function_name"))
    if not functions:
        return []
    client = aws.client("lambda", **kw)
    rows: list[dict[str, Any]] = []
    for named in functions:
        fn = _unqualified_function(named)  # versions and aliases are listed per function, not per alias
        context, params = {"function_name": fn}, {"FunctionName": fn}
        versions = _paged(client, "list_versions_by_function", stats, "lambda", context, params,
                          items="Versions", token="NextMarker", request_token="Marker")  # fmt: skip
        aliases = _paged(client, "list_aliases", stats, "lambda", context, params,
                         items="Aliases", token="NextMarker", request_token="Marker")  # fmt: skip
        rows.extend(_lambda_rows(fn, versions, aliases, win))
    return rows


def _unqualified_function(value: str) -> str:
    """The function's name, from any documented form (``api:live``, an ARN, a partial ARN): versions and aliases
    are listed per function, and the name is what the timeline's rows and the findings name it by.

    Example
    -------
    >>> _unqualified_function("api:live"), _unqualified_function("arn:aws:lambda:eu-west-1:123456789012:function:api:7")
    ('api', 'api')
    """
    ref = resource_ids.parse(value, "function")
    return ref.name if ref is not None and ref.kind == "function" else value


def _lambda_rows(fn: str, versions: Sequence[Mapping[str, Any]], aliases: Sequence[Mapping[str, Any]], win: Window) -> list[dict[str, Any]]:
    by_version: dict[str, list[str]] = {}
    for a in aliases:
        by_version.setdefault(str(a.get("FunctionVersion")), []).append(str(a.get("Name")))
        for extra, weight in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}).items():
            by_version.setdefault(str(extra), []).append(f"{a.get('Name')} ({weight:.0%} weighted)")
    published = [v for v in versions if v.get("Version") != "$LATEST"]
    rows: list[dict[str, Any]] = []
    for v in versions:
        ts = utc_or_nat(v.get("LastModified"))
        if ts is pd.NaT or not (win.start <= ts < win.end):
            continue
        version = str(v.get("Version"))
        detail = {
            "function": v.get("FunctionName") or fn,
            "version": version,
            "code_sha256": v.get("CodeSha256"),
            "description": v.get("Description"),
            "aliases": by_version.get(version),
            "runtime": v.get("Runtime"),
            "memory_size": v.get("MemorySize"),
            "timeout": v.get("Timeout"),
            "state": v.get("State"),
            "last_update_status": v.get("LastUpdateStatus"),
        }
        if version == "$LATEST":
            sha = v.get("CodeSha256")
            earlier_same_code = any(p.get("CodeSha256") == sha and utc_or_nat(p.get("LastModified")) < ts for p in published)
            name, cls = "FunctionModified", ("CONFIG_CHANGE" if earlier_same_code else "DEPLOYMENT")
            detail["note"] = (
                "code unchanged since an earlier published version: a configuration change"
                if earlier_same_code
                else "code or configuration of $LATEST changed"
            )
        else:
            name, cls = "VersionPublished", "DEPLOYMENT"
        failed = str(v.get("LastUpdateStatus")) == "Failed"
        rows.append(
            {
                "timestamp": ts,
                "source": "lambda",
                "event_name": name,
                "class": cls,
                "actor": None,
                "resource": fn,
                "error_code": (v.get("LastUpdateStatusReasonCode") or "UpdateFailed") if failed else None,
                "detail": _dumps(detail),
            }
        )
    return rows


def _fetch_ecs(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    services = resource_names(res.get("ecs_service"))
    clusters = resource_names(res.get("ecs_cluster"))
    if not services:
        return []
    if len(clusters) != 1:
        raise ParameterError("ecs_service needs exactly one ecs_cluster", ecs_cluster=clusters or None)
    client = aws.client("ecs", **kw)
    rows: list[dict[str, Any]] = []
    for i in range(0, len(services), 10):
        chunk = services[i : i + 10]
        resp = _call(client, "describe_services", stats, "ecs", {"cluster": clusters[0]}, cluster=clusters[0], services=chunk)
        for f in resp.get("failures") or []:
            stats.complete = False
            stats.issues.append(f"ecs: {f.get('arn')}: {f.get('reason')} {f.get('detail') or ''}".strip())
        for svc in resp.get("services") or []:
            rows.extend(_ecs_rows(clusters[0], svc, win))
    return rows


def _ecs_rows(cluster: str, svc: Mapping[str, Any], win: Window) -> list[dict[str, Any]]:
    name = svc.get("serviceName")
    resource = f"{cluster}/{name}"
    rows: list[dict[str, Any]] = []
    for d in svc.get("deployments") or []:
        detail = {
            "deployment_id": d.get("id"),
            "status": d.get("status"),
            "rollout_state": d.get("rolloutState"),
            "rollout_state_reason": d.get("rolloutStateReason"),
            "task_definition": d.get("taskDefinition"),
            "desired": d.get("desiredCount"),
            "running": d.get("runningCount"),
            "pending": d.get("pendingCount"),
            "failed_tasks": d.get("failedTasks"),
            "created_at": _iso(d.get("createdAt")),
            "updated_at": _iso(d.get("updatedAt")),
        }
        created, updated = utc_or_nat(d.get("createdAt")), utc_or_nat(d.get("updatedAt"))
        if created is not pd.NaT and win.start <= created < win.end:
            rows.append(
                {"timestamp": created, "source": "ecs", "event_name": "ServiceDeploymentStarted", "class": "DEPLOYMENT",
                 "actor": None, "resource": resource, "error_code": None, "detail": _dumps(detail)}
            )
        state = str(d.get("rolloutState") or "")
        if state in ("COMPLETED", "FAILED") and updated is not pd.NaT and win.start <= updated < win.end:
            rows.append(
                {"timestamp": updated, "source": "ecs",
                 "event_name": "ServiceDeploymentCompleted" if state == "COMPLETED" else "ServiceDeploymentFailed",
                 "class": "DEPLOYMENT", "actor": None, "resource": resource,
                 "error_code": "RolloutFailed" if state == "FAILED" else None, "detail": _dumps(detail)}
            )
    return rows
