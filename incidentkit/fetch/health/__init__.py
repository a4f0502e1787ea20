"""Service health snapshot: "is it healthy right now, and what does AWS itself say?"

:func:`snapshot` reads AWS's own health machinery with read-only describe calls and returns
a :class:`HealthSnapshot`:

``summary``   one row per resource: ``resource_type``, ``resource_id``, ``state``
              (healthy | degraded | unhealthy | unknown | not_collected), ``reason``,
              ``key_number`` (the number that matters, as text) and ``details``
``frames``    detail frames (see :data:`FRAME_COLUMNS`): every target with AWS's reason code,
              every Route 53 checker's observation and which ones disagree, Lambda
              concurrency, DynamoDB capacity and autoscaling, RDS status and events, API
              Gateway throttling, ECS tasks/deployments/events, CloudWatch alarms and their
              last transitions, security-group rules
``settings``  :data:`incidentkit.schema.SETTING_COLUMNS`: the configuration beside it, named
              exactly as AWS names it (``HealthCheckIntervalSeconds``,
              ``deregistration_delay.timeout_seconds``, ``ReservedConcurrentExecutions``,
              ``BillingMode``, ``max_connections``, ``RequestInterval``, ``IpPermissions``...).
              The detectors and :mod:`incidentkit.findings.audit` read it.

Resources are named with the template parameter names (:data:`RESOURCE_KEYS`); a value may
be a string, a comma-separated string or a list. A service the caller may not read becomes a
``not_collected`` row with ``AccessDenied: ...`` as its reason: a snapshot never fails
because one permission is missing.

Example
-------
>>> from incidentkit.fetch import health
>>> snap = health.snapshot({"target_group_arn": "arn:aws:elasticloadbalancing:...",
...                         "function_name": "api"})                 # doctest: +SKIP
>>> print(health.format_table(snap.summary))                          # doctest: +SKIP
>>> health.exit_code(snap.summary)                                    # doctest: +SKIP
1
"""

from __future__ import annotations

import json
import time
from typing import Any, Mapping

import boto3
import pandas as pd

from ... import schema
from ..._util.fmt import iso as _iso
from ...errors import ParameterError
from ...findings import audit  # upward: the security-group summary is the Route 53 reachability check (tests/test_layering.py)
from .. import aws  # noqa: F401 - health.aws, as before the split (tests patch health.aws.client)
from .apigateway import APIGW_ACCOUNT_DEFAULT, _collect_apigw  # noqa: F401 - the old module's names
from .cloudwatch_alarms import MAX_ALARM_HISTORY, _collect_alarms  # noqa: F401 - the old module's names
from ..._util.resource_ids import names as resource_names
from .collector import _Collector
from .dynamodb import _collect_dynamodb
from .ecs import _collect_ecs
from .elb import _collect_load_balancer, _collect_target_group, _judge_targets  # noqa: F401 - tests reach _judge_targets here
from .frames import _FRAME_GROUP, FRAME_COLUMNS, STATES, SUMMARY_COLUMNS, _make_frame, _settings_frame, _summary_frame
from .lambda_function import _collect_lambda
from .rds import _collect_rds
from .result import EXIT_NOT_COLLECTED, HealthSnapshot, exit_code, format_table
from .route53 import ROUTE53_HEALTHY_SHARE, _collect_route53
from .security_groups import _collect_security_groups

__all__ = [
    "snapshot",
    "format_table",
    "exit_code",
    "EXIT_NOT_COLLECTED",
    "HealthSnapshot",
    "RESOURCE_KEYS",
    "STATES",
    "SUMMARY_COLUMNS",
    "FRAME_COLUMNS",
    "ROUTE53_HEALTHY_SHARE",
]

#: The resource parameters :func:`snapshot` understands (the templates' parameter names).
RESOURCE_KEYS = (
    "target_group_arn",
    "load_balancer",
    "function_name",
    "table_name",
    "db_instance",
    "api_id",
    "stage",
    "health_check_id",
    "ecs_cluster",
    "ecs_service",
    "security_group_ids",
)


# --------------------------------------------------------------------------------------------
# the snapshot
# --------------------------------------------------------------------------------------------


def snapshot(
    resources: Mapping[str, Any],
    *,
    alarms: bool = True,
    alarm_history: int = 10,
    strict: bool = True,
    ip_ranges: Any = None,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> HealthSnapshot:
    """Collect the health AWS reports for ``resources``, now.

    Parameters
    ----------
    resources:
        Template parameter names to values (:data:`RESOURCE_KEYS`): ``target_group_arn``,
        ``load_balancer`` (name or ARN; its target groups come too), ``function_name``,
        ``table_name``, ``db_instance``, ``api_id`` (+ ``stage``), ``health_check_id``,
        ``ecs_cluster`` + ``ecs_service``, ``security_group_ids``.
    alarms:
        Also read the CloudWatch alarms on these resources (DescribeAlarms, matched by
        dimension) and their last ``alarm_history`` state transitions.
    strict:
        An unknown resource name is a :class:`~incidentkit.errors.ParameterError`; with
        ``strict=False`` it is ignored and listed in ``issues``.
    ip_ranges:
        Route 53 health-checker ranges for judging ``security_group_ids`` against the health
        checks (see :func:`incidentkit.findings.audit.load_ip_ranges`); default the shipped copy.
    session, region, endpoint_url:
        AWS access (see :func:`incidentkit.fetch.aws.client`).

    Returns
    -------
    HealthSnapshot

    Raises
    ------
    ParameterError
        Unknown or inconsistent resource parameters (``ecs_service`` without one
        ``ecs_cluster``, ``stage`` without ``api_id``).
    NoCredentialsError, EndpointError
        Nothing can be read at all. Every other failure is a ``not_collected`` row.

    Example
    -------
    >>> snap = snapshot({"table_name": "orders", "function_name": "api"})   # doctest: +SKIP
    >>> snap.summary[["resource_type", "state", "key_number"]]              # doctest: +SKIP
    """
    res = _check_resources(resources, strict)
    collected_at = pd.Timestamp.now(tz="UTC")
    started = time.monotonic()
    c = _Collector({"session": session, "region": region, "endpoint_url": endpoint_url}, collected_at)
    for key in res.pop("_ignored", []):
        c.add_issue("snapshot", f"resource parameter {key!r} is not a resource the snapshot reads; ignored")

    lbs = resource_names(res.get("load_balancer"))
    tgs = resource_names(res.get("target_group_arn"))
    for lb in lbs:
        c.guarded("load_balancer", lb, "elbv2", lambda lb=lb: _collect_load_balancer(c, lb, tgs))
    for tg in tgs:
        c.guarded("target_group", tg, "elbv2", lambda tg=tg: _collect_target_group(c, tg))
    for hc in resource_names(res.get("health_check_id")):
        c.guarded("route53_health_check", hc, "route53", lambda hc=hc: _collect_route53(c, hc))
    for fn in resource_names(res.get("function_name")):
        c.guarded("lambda_function", fn, "lambda", lambda fn=fn: _collect_lambda(c, fn))
    for table in resource_names(res.get("table_name")):
        c.guarded("dynamodb_table", table, "dynamodb", lambda t=table: _collect_dynamodb(c, t))
    for db in resource_names(res.get("db_instance")):
        c.guarded("rds_instance", db, "rds", lambda db=db: _collect_rds(c, db))
    stages = resource_names(res.get("stage"))
    for api in resource_names(res.get("api_id")):
        c.guarded("apigw_api", api, "apigateway", lambda api=api: _collect_apigw(c, api, stages))
    cluster = (resource_names(res.get("ecs_cluster")) or [None])[0]
    for svc in resource_names(res.get("ecs_service")):
        c.guarded("ecs_service", f"{cluster}/{svc}", "ecs", lambda svc=svc: _collect_ecs(c, str(cluster), svc))
    sgs = resource_names(res.get("security_group_ids"))
    if sgs:
        c.guarded("security_group", ",".join(sgs), "ec2", lambda: _collect_security_groups(c, sgs))
    if alarms and c.alarm_targets:
        c.guarded("cloudwatch_alarms", "*", "cloudwatch", lambda: _collect_alarms(c, alarm_history))

    settings = _settings_frame(c.settings)
    if sgs:
        _judge_security_groups(c, settings, ip_ranges)
    summary = _summary_frame(c.summary)
    elapsed = time.monotonic() - started
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAME_COLUMNS:
        df = _make_frame(name, c.rows[name])
        group = _FRAME_GROUP[name]
        st = c.stats.get(group, {"api_calls": 0, "retries": 0})
        issues = c.group_issues.get(group, [])
        df.attrs.update(schema.provenance(f"health.{name}", region=c.region, api_calls=st["api_calls"],
                                          retries=st["retries"], complete=not issues, issues=issues,
                                          collected_at=_iso(collected_at)))
        frames[name] = df
    total_calls = sum(s["api_calls"] for s in c.stats.values())
    total_retries = sum(s["retries"] for s in c.stats.values())
    common = dict(region=c.region, api_calls=total_calls, retries=total_retries, elapsed_s=elapsed,
                  complete=not c.issues, issues=list(c.issues), collected_at=_iso(collected_at),
                  query={"resources": {k: resource_names(v) for k, v in res.items()}})
    summary.attrs.update(schema.provenance("health.snapshot", **common))
    settings.attrs.update(schema.provenance("health.settings", **common))
    return HealthSnapshot(summary=summary, frames=frames, settings=settings, collected_at=collected_at,
                          region=c.region, issues=list(c.issues))


def _check_resources(resources: Mapping[str, Any], strict: bool) -> dict[str, Any]:
    if not isinstance(resources, Mapping):
        raise ParameterError(f"resources must be a mapping of parameter names to values, got {type(resources).__name__}")
    out: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in resources.items():
        if key not in RESOURCE_KEYS:
            if strict:
                raise ParameterError(f"unknown resource parameter {key!r}; use any of {', '.join(RESOURCE_KEYS)}")
            ignored.append(key)
            continue
        if resource_names(value):
            out[key] = value
    if out.get("ecs_service") and len(resource_names(out.get("ecs_cluster"))) != 1:
        raise ParameterError("ecs_service needs exactly one ecs_cluster", ecs_cluster=resource_names(out.get("ecs_cluster")) or None)
    if out.get("stage") and not out.get("api_id"):
        raise ParameterError("stage needs api_id")
    if not out:
        raise ParameterError(f"no resources given; name at least one of {', '.join(RESOURCE_KEYS)}")
    out["_ignored"] = ignored
    return out



def _judge_security_groups(c: _Collector, settings: pd.DataFrame, ip_ranges: Any) -> None:
    """Security groups have no health of their own: judge them against the Route 53 health checks given."""
    sg = settings[settings["resource_type"] == "security_group"]
    if sg.empty:
        return
    group_ids = sorted(set(sg["resource_id"]))
    checks = settings[settings["resource_type"] == "route53_health_check"]
    label = ",".join(group_ids)
    n_rules = sum(len(json.loads(v)) for v in sg.loc[sg["setting"] == "IpPermissions", "value"].dropna())
    if checks.empty:
        c.add_summary("security_group", label, "unknown", "no Route 53 health check given to test the rules against",
                      f"{n_rules} ingress rule(s)")
        return
    results = audit.check_route53_access(settings, ip_ranges=ip_ranges)
    if not results:
        c.add_summary("security_group", label, "healthy", "allows the Route 53 health checkers on the checked port(s)",
                      f"{n_rules} ingress rule(s)")
        return
    worst = "unhealthy" if any(r.severity in ("critical", "high") for r in results) else "degraded"
    first = results[0]
    ev = first.evidence
    key = first.check_id
    if "port" in ev:
        key = f"{ev.get('blocked_regions')}/{ev.get('checker_regions')} checker regions blocked on TCP {ev.get('port')}"
        if ev.get("partly_blocked_regions"):
            key += f", {ev.get('partly_blocked_regions')} partly"
    c.add_summary("security_group", label, worst, first.summary, key, "; ".join(f"{r.check_id} ({r.severity})" for r in results))
