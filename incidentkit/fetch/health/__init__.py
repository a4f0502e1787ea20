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

import dataclasses
import json
import logging
import math
import time
from collections import Counter
from typing import Any, Callable, Iterable, Mapping, Sequence

import boto3
import pandas as pd

from .. import aws
from ..._util import resource_ids
from ..._util.fmt import iso as _iso
from ... import schema
from ...findings import audit  # upward: the security-group summary is the Route 53 reachability check (tests/test_layering.py)
from ...errors import (
    AccessDeniedError,
    AwsError,
    EndpointError,
    IncidentKitError,
    NoCredentialsError,
    NoRegionError,
    NotFoundError,
    ParameterError,
    from_botocore,
)

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

logger = logging.getLogger(__name__)

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
#: Summary states, worst first (``not_collected``: we could not look).
STATES = ("unhealthy", "degraded", "not_collected", "unknown", "healthy")
SUMMARY_COLUMNS = ("resource_type", "resource_id", "state", "reason", "key_number", "details")
#: Route 53 considers an endpoint healthy when more than this share of its checkers say so.
ROUTE53_HEALTHY_SHARE = 0.18
#: Alarms whose history is read (those in ALARM first, then the most recently changed).
MAX_ALARM_HISTORY = 50

_TS = schema.UTC_NS
#: Columns and dtypes of the detail frames.
FRAME_COLUMNS: dict[str, dict[str, str]] = {
    "load_balancers": {"load_balancer_arn": "string", "name": "string", "type": "string", "scheme": "string",
                       "state": "string", "state_reason": "string", "dns_name": "string"},
    "targets": {"target_group_arn": "string", "target_group_name": "string", "target_id": "string", "port": "Int64",
                "availability_zone": "string", "state": "string", "reason": "string", "description": "string",
                "health_check_port": "string"},
    "route53_checkers": {"health_check_id": "string", "region": "string", "checker_ip": "string", "checked_at": _TS,
                         "status": "string", "healthy": "boolean", "disagrees": "boolean", "last_failure": "string",
                         "last_failure_at": _TS},
    "lambda": {"function_name": "string", "state": "string", "state_reason": "string", "last_update_status": "string",
               "last_update_status_reason": "string", "reserved_concurrency": "Int64", "provisioned_requested": "Int64",
               "provisioned_allocated": "Int64", "provisioned_available": "Int64", "account_limit": "Int64",
               "account_unreserved": "Int64", "timeout_s": "Int64", "memory_mb": "Int64", "runtime": "string",
               "last_modified": _TS},
    "lambda_provisioned": {"function_name": "string", "qualifier": "string", "requested": "Int64", "allocated": "Int64",
                           "available": "Int64", "status": "string", "status_reason": "string", "last_modified": _TS},
    "dynamodb": {"table_name": "string", "index_name": "string", "kind": "string", "status": "string",
                 "billing_mode": "string", "read_capacity": "Int64", "write_capacity": "Int64",
                 "autoscaling_read": "string", "autoscaling_write": "string", "item_count": "Int64", "size_bytes": "Int64"},
    "rds": {"db_instance": "string", "status": "string", "engine": "string", "engine_version": "string",
            "instance_class": "string", "multi_az": "boolean", "parameter_group": "string", "max_connections": "string",
            "pending_maintenance": "string"},
    "rds_events": {"timestamp": _TS, "db_instance": "string", "message": "string", "categories": "string"},
    "apigw_throttling": {"api_id": "string", "api_kind": "string", "api_name": "string", "stage": "string",
                         "scope": "string", "rate_limit": "float64", "burst_limit": "Int64"},
    "ecs": {"cluster": "string", "service": "string", "status": "string", "desired": "Int64", "running": "Int64",
            "pending": "Int64", "rollout_state": "string", "deployments": "Int64", "task_definition": "string"},
    "ecs_deployments": {"cluster": "string", "service": "string", "deployment_id": "string", "status": "string",
                        "rollout_state": "string", "rollout_state_reason": "string", "task_definition": "string",
                        "desired": "Int64", "running": "Int64", "pending": "Int64", "failed_tasks": "Int64",
                        "created_at": _TS, "updated_at": _TS},
    "ecs_events": {"timestamp": _TS, "cluster": "string", "service": "string", "message": "string"},
    "security_group_rules": {"group_id": "string", "group_name": "string", "direction": "string", "protocol": "string",
                             "from_port": "Int64", "to_port": "Int64", "source": "string", "source_type": "string",
                             "description": "string"},
    "alarms": {"alarm_name": "string", "resource_type": "string", "resource_id": "string", "state": "string",
               "state_reason": "string", "state_updated": _TS, "namespace": "string", "metric_name": "string",
               "dimensions": "string", "actions_enabled": "boolean"},
    "alarm_history": {"timestamp": _TS, "alarm_name": "string", "resource_type": "string", "resource_id": "string",
                      "old_state": "string", "new_state": "string", "summary": "string"},
}
# which stats group (AWS service) feeds which frame
_FRAME_GROUP = {
    "load_balancers": "elbv2", "targets": "elbv2", "route53_checkers": "route53", "lambda": "lambda",
    "lambda_provisioned": "lambda", "dynamodb": "dynamodb", "rds": "rds", "rds_events": "rds",
    "apigw_throttling": "apigateway", "ecs": "ecs", "ecs_deployments": "ecs", "ecs_events": "ecs",
    "security_group_rules": "ec2", "alarms": "cloudwatch", "alarm_history": "cloudwatch",
}

_STATE_RANK = {s: i for i, s in enumerate(STATES)}


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class HealthSnapshot:
    """What :func:`snapshot` returns.

    Attributes
    ----------
    summary:
        One row per resource (:data:`SUMMARY_COLUMNS`).
    frames:
        Detail frames by name (:data:`FRAME_COLUMNS`), each with provenance in ``attrs``.
    settings:
        :data:`incidentkit.schema.SETTING_COLUMNS`, the configuration read beside the health.
    collected_at:
        When the snapshot was taken (UTC). A snapshot taken after an incident describes
        *now*, not the incident: reports say so.
    region:
        The region read.
    issues:
        What could not be collected, one line each.
    """

    summary: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    settings: pd.DataFrame
    collected_at: pd.Timestamp
    region: str | None = None
    issues: list[str] = dataclasses.field(default_factory=list)

    @property
    def unhealthy(self) -> pd.DataFrame:
        """The summary rows whose state is ``unhealthy``."""
        return self.summary[self.summary["state"] == "unhealthy"].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``--json``): collection time, summary, frames, settings, issues."""
        return {
            "collected_at": _iso(self.collected_at),
            "region": self.region,
            "summary": _records(self.summary),
            "frames": {name: _records(df) for name, df in self.frames.items()},
            "settings": _records(self.settings),
            "issues": list(self.issues),
            "exit_code": exit_code(self.summary),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        rec: dict[str, Any] = {}
        for c, v in zip(cols, row):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                rec[c] = None
            elif isinstance(v, pd.Timestamp):
                rec[c] = _iso(v)
            elif hasattr(v, "item"):  # numpy scalars
                rec[c] = v.item()
            else:
                rec[c] = v
        out.append(rec)
    return out


# --------------------------------------------------------------------------------------------
# collection machinery
# --------------------------------------------------------------------------------------------


class _Collector:
    def __init__(self, kw: Mapping[str, Any], collected_at: pd.Timestamp) -> None:
        self.kw = dict(kw)
        self.collected_at = collected_at
        self.clients: dict[str, Any] = {}
        self.stats: dict[str, dict[str, int]] = {}
        self.summary: list[dict[str, Any]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in FRAME_COLUMNS}
        self.settings: list[dict[str, Any]] = []
        self.issues: list[str] = []
        self.group_issues: dict[str, list[str]] = {}
        self.alarm_targets: list[tuple[str, str, dict[str, str]]] = []
        self.account_settings: Mapping[str, Any] | None = None
        self.region: str | None = None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            made = aws.client(service, **self.kw)
            self.clients[service] = made
            self.region = self.region or made.meta.region_name
        return self.clients[service]

    def call(self, service: str, op: str, **params: Any) -> dict[str, Any]:
        group = {"apigatewayv2": "apigateway", "application-autoscaling": "dynamodb"}.get(service, service)
        st = self.stats.setdefault(group, {"api_calls": 0, "retries": 0})
        try:
            resp = getattr(self.client(service), op)(**params)
        except IncidentKitError:
            raise
        except NotImplementedError as exc:  # an emulator (moto in-process) without this operation
            st["api_calls"] += 1
            raise AwsError(f"the endpoint does not implement {_op_name(op)}", service=service,
                           operation=_op_name(op)) from exc
        except Exception as exc:
            st["api_calls"] += 1
            err = from_botocore(exc, service=service)
            err.context.setdefault("operation", _op_name(op))
            raise err from exc
        st["api_calls"] += 1
        st["retries"] += aws.retry_attempts(resp)
        return resp

    def pages(self, service: str, op: str, items: str, token_in: str, token_out: str, **params: Any) -> list[Any]:
        """Follow a pagination token, never looping on a repeated token."""
        out: list[Any] = []
        seen: set[str] = set()
        while True:
            resp = self.call(service, op, **params)
            out.extend(resp.get(items) or [])
            token = resp.get(token_out)
            if not token or token in seen:
                return out
            seen.add(token)
            params[token_in] = token

    # -- recording ---------------------------------------------------------------------------

    def add_summary(self, rtype: str, rid: str, state: str, reason: str = "", key_number: str = "", details: str = "") -> None:
        self.summary.append({"resource_type": rtype, "resource_id": rid, "state": state, "reason": reason,
                             "key_number": key_number, "details": details})

    def add_row(self, frame: str, **row: Any) -> None:
        self.rows[frame].append(row)

    def add_setting(self, rtype: str, rid: str, setting: str, value: Any) -> None:
        self.settings.append({"timestamp": self.collected_at, "resource_type": rtype, "resource_id": rid,
                              "setting": setting, "value": _setting_text(value)})

    def add_issue(self, group: str, text: str) -> None:
        self.issues.append(text)
        self.group_issues.setdefault(group, []).append(text)

    def guarded(self, rtype: str, rid: str, group: str, fn: Callable[[], None]) -> None:
        """Run one resource's collection; a denied or failed call becomes a row, not a failure."""
        try:
            fn()
        except (NoCredentialsError, NoRegionError, EndpointError):
            raise
        except AccessDeniedError as exc:
            reason = f"AccessDenied: {_denied_text(exc)}"
            self.add_summary(rtype, rid, "not_collected", reason)
            self.add_issue(group, f"{rtype} {rid}: not collected: {reason}")
        except NotFoundError as exc:
            self.add_summary(rtype, rid, "unhealthy", f"NotFound: {_error_text(exc)} (deleted, or a wrong name?)")
            self.add_issue(group, f"{rtype} {rid}: not found")
        except AwsError as exc:
            reason = f"{_error_code(exc)}: {_error_text(exc)}"
            self.add_summary(rtype, rid, "not_collected", reason)
            self.add_issue(group, f"{rtype} {rid}: not collected: {reason}")

    def partial(self, group: str, what: str, fn: Callable[[], Any], notes: list[str]) -> Any:
        """Run an optional sub-collection; a failure is noted on the resource, not raised."""
        try:
            return fn()
        except (NoCredentialsError, NoRegionError, EndpointError):
            raise
        except AwsError as exc:
            code = "AccessDenied" if isinstance(exc, AccessDeniedError) else _error_code(exc)
            note = f"{what} not collected ({code})"
            notes.append(note)
            self.add_issue(group, f"{what}: not collected: {code}: {_error_text(exc)}")
            return None


def _op_name(method: str) -> str:
    return "".join(p.capitalize() for p in method.split("_"))


def _error_code(exc: AwsError) -> str:
    cause = exc.__cause__
    if isinstance(cause, NotImplementedError):
        return "NotImplemented"
    resp = getattr(cause, "response", None)
    if isinstance(resp, Mapping):
        code = (resp.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__.replace("Error", "") or "AwsError"


def _error_text(exc: AwsError) -> str:
    cause = exc.__cause__
    resp = getattr(cause, "response", None)
    msg = (resp.get("Error") or {}).get("Message") if isinstance(resp, Mapping) else None
    return str(msg or exc.message)[:240]


def _denied_text(exc: AwsError) -> str:
    op = exc.context.get("operation")
    service = exc.context.get("service")
    action = aws.iam_action(str(service), str(op)) if service and op else None
    msg = _error_text(exc)
    return f"{action}: {msg}" if action else msg


def _setting_text(value: Any) -> Any:
    if value is None or value is pd.NA:
        return pd.NA
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return _iso(value)
    return str(value)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        out: list[str] = []
        for v in value:
            out.extend(_names(v))
        return list(dict.fromkeys(out))
    return [str(value)]


def _int(value: Any) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def _worse(a: str, b: str) -> str:
    return a if _STATE_RANK[a] <= _STATE_RANK[b] else b


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

    lbs = _names(res.get("load_balancer"))
    tgs = _names(res.get("target_group_arn"))
    for lb in lbs:
        c.guarded("load_balancer", lb, "elbv2", lambda lb=lb: _collect_load_balancer(c, lb, tgs))
    for tg in tgs:
        c.guarded("target_group", tg, "elbv2", lambda tg=tg: _collect_target_group(c, tg))
    for hc in _names(res.get("health_check_id")):
        c.guarded("route53_health_check", hc, "route53", lambda hc=hc: _collect_route53(c, hc))
    for fn in _names(res.get("function_name")):
        c.guarded("lambda_function", fn, "lambda", lambda fn=fn: _collect_lambda(c, fn))
    for table in _names(res.get("table_name")):
        c.guarded("dynamodb_table", table, "dynamodb", lambda t=table: _collect_dynamodb(c, t))
    for db in _names(res.get("db_instance")):
        c.guarded("rds_instance", db, "rds", lambda db=db: _collect_rds(c, db))
    stages = _names(res.get("stage"))
    for api in _names(res.get("api_id")):
        c.guarded("apigw_api", api, "apigateway", lambda api=api: _collect_apigw(c, api, stages))
    cluster = (_names(res.get("ecs_cluster")) or [None])[0]
    for svc in _names(res.get("ecs_service")):
        c.guarded("ecs_service", f"{cluster}/{svc}", "ecs", lambda svc=svc: _collect_ecs(c, str(cluster), svc))
    sgs = _names(res.get("security_group_ids"))
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
                  query={"resources": {k: _names(v) for k, v in res.items()}})
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
        if _names(value):
            out[key] = value
    if out.get("ecs_service") and len(_names(out.get("ecs_cluster"))) != 1:
        raise ParameterError("ecs_service needs exactly one ecs_cluster", ecs_cluster=_names(out.get("ecs_cluster")) or None)
    if out.get("stage") and not out.get("api_id"):
        raise ParameterError("stage needs api_id")
    if not out:
        raise ParameterError(f"no resources given; name at least one of {', '.join(RESOURCE_KEYS)}")
    out["_ignored"] = ignored
    return out


def _make_frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    spec = FRAME_COLUMNS[name]
    data: dict[str, pd.Series] = {}
    for col, dtype in spec.items():
        values = [r.get(col) for r in rows]
        if dtype == _TS:
            data[col] = schema.utc(pd.Series([_ts(v) for v in values], dtype=object)) if values else pd.Series([], dtype=_TS)
        elif dtype == "Int64":
            data[col] = pd.Series([_int(v) for v in values], dtype="Int64")
        elif dtype == "float64":
            data[col] = pd.Series([float(v) if v is not None else float("nan") for v in values], dtype="float64")
        elif dtype == "boolean":
            data[col] = pd.Series([None if v is None else bool(v) for v in values], dtype="boolean")
        else:
            data[col] = pd.Series([None if v is None else str(v) for v in values], dtype="string")
    return pd.DataFrame(data)


def _ts(value: Any) -> Any:
    if value is None or value == "":
        return pd.NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    if ts is pd.NaT:
        return pd.NaT
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _settings_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    # built here rather than with schema.conform: schema.DTYPES types ``value`` as the metrics'
    # float64, while a setting's value is text ("HTTP", "{DBInstanceClassMemory/12582880}", "30")
    data: dict[str, pd.Series] = {}
    for col in schema.SETTING_COLUMNS:
        values = [r.get(col) for r in rows]
        if col == "timestamp":
            data[col] = pd.Series(values, dtype=object).map(_ts).astype(_TS) if values else pd.Series([], dtype=_TS)
        else:
            data[col] = pd.Series([None if v is None or v is pd.NA else str(v) for v in values], dtype="string")
    return pd.DataFrame(data)


def _summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype("string")
    if df.empty:
        return df
    df["_rank"] = df["state"].map(_STATE_RANK)
    return df.sort_values(["_rank", "resource_type", "resource_id"], kind="stable").drop(columns="_rank").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# ELB: load balancers, target groups, targets
# --------------------------------------------------------------------------------------------

_TG_SETTINGS = (
    "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount",
    "HealthCheckPath", "HealthCheckPort", "HealthCheckProtocol", "HealthCheckEnabled", "TargetType", "Protocol", "Port",
)


def _describe_by_id(c: _Collector, value: str, kind: str, op: str, items: str, arn_key: str, names_key: str) -> dict[str, Any]:
    """Describe an ELB resource named in any documented form: ARN, ``app/<name>/<id>``/``targetgroup/<name>/<id>``, or name.

    A short form with an id is looked up by name and must carry that id: a load balancer of the
    same name recreated since (another id) is not the one the investigation named.
    """
    ref = resource_ids.parse(value, kind)
    if ref is None or ref.kind != kind:
        raise ParameterError(f"{value!r} is not a {kind.replace('_', ' ')}: give its name, ARN or the CloudWatch form "
                             + ("app/<name>/<id>" if kind == "load_balancer" else "targetgroup/<name>/<id>"))
    params = {arn_key: [value]} if value.startswith("arn:") else {names_key: [ref.name]}
    found = c.call("elbv2", op, **params).get(items) or []
    mine = [d for d in found if ref.matches(resource_ids.parse(d.get(arn_key[:-1]) or ""))]
    if not mine:
        other = f" ({found[0].get(arn_key[:-1])} has that name, another id)" if found else ""
        raise NotFoundError(f"{kind.replace('_', ' ')} {value} not found{other}", service="elbv2", operation=op.title().replace("_", ""))
    return mine[0]


def _collect_load_balancer(c: _Collector, lb: str, explicit_tgs: list[str]) -> None:
    d = _describe_by_id(c, lb, "load_balancer", "describe_load_balancers", "LoadBalancers", "LoadBalancerArns", "Names")
    arn = d["LoadBalancerArn"]
    state = (d.get("State") or {}).get("Code", "unknown")
    reason = (d.get("State") or {}).get("Reason")
    c.add_row("load_balancers", load_balancer_arn=arn, name=d.get("LoadBalancerName"), type=d.get("Type"),
              scheme=d.get("Scheme"), state=state, state_reason=reason, dns_name=d.get("DNSName"))
    for key in ("Type", "Scheme", "IpAddressType"):
        c.add_setting("load_balancer", arn, key, d.get(key))
    c.add_setting("load_balancer", arn, "State.Code", state)
    notes: list[str] = []
    attrs = c.partial("elbv2", f"load balancer {d.get('LoadBalancerName')} attributes",
                      lambda: c.call("elbv2", "describe_load_balancer_attributes", LoadBalancerArn=arn), notes)
    for a in (attrs or {}).get("Attributes") or []:
        c.add_setting("load_balancer", arn, a.get("Key"), a.get("Value"))
    lb_state = {"active": "healthy", "active_impaired": "degraded", "provisioning": "degraded", "failed": "unhealthy"}.get(state, "unknown")
    c.add_summary("load_balancer", arn, lb_state, f"state {state}" + (f": {reason}" if reason else ""),
                  f"state {state}", "; ".join(notes))
    suffix = arn.split(":loadbalancer/", 1)[-1]
    c.alarm_targets.append(("load_balancer", arn, {"LoadBalancer": suffix}))
    tg_arns = [t["TargetGroupArn"] for t in c.pages("elbv2", "describe_target_groups", "TargetGroups", "Marker", "NextMarker",
                                                     LoadBalancerArn=arn)]
    named = [resource_ids.parse(t, "target_group") for t in explicit_tgs]
    for tg in tg_arns:
        if not any(n is not None and n.matches(resource_ids.parse(tg)) for n in named):
            c.guarded("target_group", tg, "elbv2", lambda tg=tg: _collect_target_group(c, tg))


def _collect_target_group(c: _Collector, arn: str) -> None:
    tg = _describe_by_id(c, arn, "target_group", "describe_target_groups", "TargetGroups", "TargetGroupArns", "Names")
    arn = tg["TargetGroupArn"]
    name = tg.get("TargetGroupName")
    for key in _TG_SETTINGS:
        c.add_setting("target_group", arn, key, tg.get(key))
    matcher = tg.get("Matcher") or {}
    c.add_setting("target_group", arn, "Matcher.HttpCode", matcher.get("HttpCode") or matcher.get("GrpcCode"))
    c.add_setting("target_group", arn, "LoadBalancerArns", tg.get("LoadBalancerArns") or [])
    attrs = c.call("elbv2", "describe_target_group_attributes", TargetGroupArn=arn).get("Attributes") or []
    for a in attrs:
        c.add_setting("target_group", arn, a.get("Key"), a.get("Value"))
    health = c.call("elbv2", "describe_target_health", TargetGroupArn=arn).get("TargetHealthDescriptions") or []
    for h in health:
        t, th = h.get("Target") or {}, h.get("TargetHealth") or {}
        c.add_row("targets", target_group_arn=arn, target_group_name=name, target_id=t.get("Id"), port=t.get("Port"),
                  availability_zone=t.get("AvailabilityZone"), state=th.get("State"), reason=th.get("Reason"),
                  description=th.get("Description"), health_check_port=h.get("HealthCheckPort"))
    state, reason, key = _judge_targets(health, bool(tg.get("LoadBalancerArns")))
    hc = (f"checks every {tg.get('HealthCheckIntervalSeconds')}s, timeout {tg.get('HealthCheckTimeoutSeconds')}s, "
          f"unhealthy after {tg.get('UnhealthyThresholdCount')}, healthy after {tg.get('HealthyThresholdCount')}")
    c.add_summary("target_group", arn, state, reason, key, hc)
    suffix = arn.split(":", 5)[-1] if ":targetgroup/" in arn else arn
    c.alarm_targets.append(("target_group", arn, {"TargetGroup": suffix}))


def _judge_targets(health: Sequence[Mapping[str, Any]], attached: bool) -> tuple[str, str, str]:
    states = Counter(str((h.get("TargetHealth") or {}).get("State")) for h in health)
    reasons = Counter(
        str((h.get("TargetHealth") or {}).get("Reason"))
        for h in health
        if (h.get("TargetHealth") or {}).get("State") not in ("healthy",) and (h.get("TargetHealth") or {}).get("Reason")
    )
    serving = states["healthy"] + sum(
        1 for h in health
        if (h.get("TargetHealth") or {}).get("State") == "unavailable"
        and (h.get("TargetHealth") or {}).get("Reason") == "Target.HealthCheckDisabled"
    )
    draining = states["draining"] + states["unhealthy.draining"]
    registered = len(health) - draining
    key = f"{serving}/{registered} healthy" + (f", {draining} draining" if draining else "")
    top = ", ".join(f"{r} ({n})" for r, n in reasons.most_common(3))
    if not attached:
        return "unknown", "not attached to a load balancer: targets are not health-checked", key
    if registered == 0:
        return "unhealthy", "no registered targets: the load balancer answers 503", key
    if serving == registered:
        return "healthy", "all targets healthy", key
    if serving == 0:
        if states["initial"] == registered:
            return "degraded", "initial health checks in progress (Elb.InitialHealthChecking)", key
        fail_open = " — with every target unhealthy an ALB fails open and routes to all of them" if states["unhealthy"] else ""
        return "unhealthy", f"no healthy target: {top}{fail_open}", key
    return "degraded", f"{registered - serving} of {registered} targets not healthy: {top}", key


# --------------------------------------------------------------------------------------------
# Route 53 health checks
# --------------------------------------------------------------------------------------------

_R53_SETTINGS = ("Type", "IPAddress", "Port", "FullyQualifiedDomainName", "ResourcePath", "RequestInterval",
                 "FailureThreshold", "MeasureLatency", "Inverted", "Disabled", "EnableSNI", "HealthThreshold",
                 "SearchString", "InsufficientDataHealthStatus")


def _collect_route53(c: _Collector, hc_id: str) -> None:
    hc = c.call("route53", "get_health_check", HealthCheckId=hc_id).get("HealthCheck") or {}
    cfg = hc.get("HealthCheckConfig") or {}
    for key in _R53_SETTINGS:
        if key in cfg:
            c.add_setting("route53_health_check", hc_id, key, cfg.get(key))
    port = cfg.get("Port") or {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}.get(str(cfg.get("Type")))
    if "Port" not in cfg and port:
        c.add_setting("route53_health_check", hc_id, "Port", port)  # the port Route 53 uses by default
    c.add_setting("route53_health_check", hc_id, "Regions", cfg.get("Regions") or [])
    c.alarm_targets.append(("route53_health_check", hc_id, {"HealthCheckId": hc_id}))
    obs = c.call("route53", "get_health_check_status", HealthCheckId=hc_id).get("HealthCheckObservations") or []
    notes: list[str] = []
    last = c.partial("route53", f"health check {hc_id} last failure reason",
                     lambda: c.call("route53", "get_health_check_last_failure_reason", HealthCheckId=hc_id), notes)
    last_by_ip = {o.get("IPAddress"): o for o in ((last or {}).get("HealthCheckObservations") or [])}
    parsed = []
    for o in obs:
        rep = o.get("StatusReport") or {}
        status = str(rep.get("Status") or "")
        healthy = status.lower().startswith("success")
        parsed.append((o, rep, status, healthy))
    n = len(parsed)
    n_ok = sum(1 for p in parsed if p[3])
    overall = n > 0 and n_ok / n > ROUTE53_HEALTHY_SHARE
    for o, rep, status, healthy in parsed:
        lf = (last_by_ip.get(o.get("IPAddress")) or {}).get("StatusReport") or {}
        c.add_row("route53_checkers", health_check_id=hc_id, region=o.get("Region"), checker_ip=o.get("IPAddress"),
                  checked_at=rep.get("CheckedTime"), status=status, healthy=healthy, disagrees=healthy != overall,
                  last_failure=lf.get("Status"), last_failure_at=lf.get("CheckedTime"))
    failing = [p for p in parsed if not p[3]]
    fail_regions = sorted({str(p[0].get("Region")) for p in failing})
    top = Counter(_status_head(p[2]) for p in failing).most_common(1)
    key = f"{n_ok}/{n} checkers healthy"
    details = f"type {cfg.get('Type')}, every {cfg.get('RequestInterval', 30)}s, fails after {cfg.get('FailureThreshold', 3)}"
    if cfg.get("Disabled"):
        state, reason = "unknown", "health check disabled: Route 53 treats the endpoint as healthy"
    elif n == 0:
        state, reason = "unknown", "no checker observations (a new or calculated check?)"
    elif not overall:
        state = "unhealthy"
        reason = f"{top[0][0] if top else 'Failure'} ({len(failing)}/{n} checkers)"
    elif failing:
        state = "degraded"
        reason = f"{len(failing)}/{n} checkers report failure from {', '.join(fail_regions)}: {top[0][0] if top else ''}"
    else:
        state, reason = "healthy", "every checker reports success"
    if cfg.get("Inverted"):
        details += "; inverted: Route 53 reverses this status"
    if notes:
        details += "; " + "; ".join(notes)
    c.add_summary("route53_health_check", hc_id, state, reason, key, details)


def _status_head(status: str) -> str:
    """``Failure: Connection timed out. The endpoint ...`` -> ``Failure: Connection timed out``."""
    head = status.split(". ", 1)[0]
    return head[:120]


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------


def _collect_lambda(c: _Collector, fn: str) -> None:
    resp = c.call("lambda", "get_function", FunctionName=fn)
    cfg = resp.get("Configuration") or {}
    name = cfg.get("FunctionName") or fn
    reserved = (resp.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    notes: list[str] = []
    configs = c.partial("lambda", f"lambda {name} provisioned concurrency",
                        lambda: c.pages("lambda", "list_provisioned_concurrency_configs", "ProvisionedConcurrencyConfigs",
                                        "Marker", "NextMarker", FunctionName=name), notes)
    if c.account_settings is None:
        c.account_settings = c.partial("lambda", "lambda account settings", lambda: c.call("lambda", "get_account_settings"), notes) or {}
    limit = (c.account_settings.get("AccountLimit") or {}) if c.account_settings else {}
    req = alloc = avail = 0
    failed_pc: list[str] = []
    for pc in configs or []:
        qualifier = str(pc.get("FunctionArn", "")).rsplit(":", 1)[-1]
        r, a, v = (_int(pc.get("RequestedProvisionedConcurrentExecutions")) or 0,
                   _int(pc.get("AllocatedProvisionedConcurrentExecutions")) or 0,
                   _int(pc.get("AvailableProvisionedConcurrentExecutions")) or 0)
        req, alloc, avail = req + r, alloc + a, avail + v
        if pc.get("Status") == "FAILED":
            failed_pc.append(f"{qualifier}: {pc.get('StatusReason') or 'FAILED'}")
        c.add_row("lambda_provisioned", function_name=name, qualifier=qualifier, requested=r, allocated=a, available=v,
                  status=pc.get("Status"), status_reason=pc.get("StatusReason"), last_modified=pc.get("LastModified"))
    c.add_row("lambda", function_name=name, state=cfg.get("State"), state_reason=cfg.get("StateReason"),
              last_update_status=cfg.get("LastUpdateStatus"), last_update_status_reason=cfg.get("LastUpdateStatusReason"),
              reserved_concurrency=reserved, provisioned_requested=req if configs is not None else None,
              provisioned_allocated=alloc if configs is not None else None,
              provisioned_available=avail if configs is not None else None,
              account_limit=limit.get("ConcurrentExecutions"), account_unreserved=limit.get("UnreservedConcurrentExecutions"),
              timeout_s=cfg.get("Timeout"), memory_mb=cfg.get("MemorySize"), runtime=cfg.get("Runtime"),
              last_modified=cfg.get("LastModified"))
    c.add_setting("lambda_function", name, "ReservedConcurrentExecutions", reserved)
    if configs is not None:
        c.add_setting("lambda_function", name, "ProvisionedConcurrentExecutions", req)
        c.add_setting("lambda_function", name, "AllocatedProvisionedConcurrentExecutions", alloc)
        c.add_setting("lambda_function", name, "AvailableProvisionedConcurrentExecutions", avail)
    for key in ("Timeout", "MemorySize", "Runtime", "State", "LastUpdateStatus", "PackageType"):
        c.add_setting("lambda_function", name, key, cfg.get(key))
    c.add_setting("lambda_function", name, "SnapStart.ApplyOn", (cfg.get("SnapStart") or {}).get("ApplyOn"))
    if limit:
        c.add_setting("lambda_function", name, "AccountLimit.ConcurrentExecutions", limit.get("ConcurrentExecutions"))
        c.add_setting("lambda_function", name, "AccountLimit.UnreservedConcurrentExecutions",
                      limit.get("UnreservedConcurrentExecutions"))
    c.alarm_targets.append(("lambda_function", name, {"FunctionName": name}))

    state, reason = "healthy", "Active, last update Successful"
    fstate, upd = str(cfg.get("State") or ""), str(cfg.get("LastUpdateStatus") or "")
    if fstate == "Failed":
        state, reason = "unhealthy", f"state Failed: {cfg.get('StateReasonCode') or ''} {cfg.get('StateReason') or ''}".strip()
    elif reserved == 0:
        state, reason = "unhealthy", "ReservedConcurrentExecutions is 0: every invocation is throttled"
    elif fstate in ("Pending", "Inactive"):
        state, reason = "degraded", f"state {fstate}" + (f": {cfg.get('StateReason')}" if cfg.get("StateReason") else "")
    elif upd == "Failed":
        state, reason = "degraded", f"last update Failed: {cfg.get('LastUpdateStatusReason') or cfg.get('LastUpdateStatusReasonCode') or ''}"
    elif upd == "InProgress":
        state, reason = "degraded", "an update is in progress"
    elif failed_pc:
        state, reason = "degraded", "provisioned concurrency FAILED: " + "; ".join(failed_pc)
    elif configs is not None and req and avail < req:
        state, reason = "degraded", f"provisioned concurrency not ready: {avail} of {req} available"
    parts = [f"reserved {reserved if reserved is not None else 'none'}"]
    if configs is not None:
        parts.append(f"provisioned {avail}/{req}")
    if limit.get("UnreservedConcurrentExecutions") is not None:
        parts.append(f"account unreserved {limit.get('UnreservedConcurrentExecutions')}/{limit.get('ConcurrentExecutions')}")
    details = f"timeout {cfg.get('Timeout')}s, memory {cfg.get('MemorySize')} MB, {cfg.get('Runtime') or cfg.get('PackageType')}"
    if notes:
        details += "; " + "; ".join(notes)
    c.add_summary("lambda_function", name, state, reason, ", ".join(parts), details)


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------


def _collect_dynamodb(c: _Collector, table: str) -> None:
    ref = resource_ids.parse(table, "table")  # a name or a table ARN (its index part names no other table)
    t = c.call("dynamodb", "describe_table", TableName=ref.name if ref is not None else table).get("Table") or {}
    name = t.get("TableName") or table
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    pt = t.get("ProvisionedThroughput") or {}
    gsis = t.get("GlobalSecondaryIndexes") or []
    ids = [f"table/{name}"] + [f"table/{name}/index/{g.get('IndexName')}" for g in gsis]
    notes: list[str] = []
    scaling: dict[tuple[str, str], dict[str, Any]] = {}
    if billing == "PROVISIONED":
        targets = c.partial("dynamodb", f"dynamodb {name} autoscaling targets",
                            lambda: [x for i in range(0, len(ids), 50) for x in c.pages(
                                "application-autoscaling", "describe_scalable_targets", "ScalableTargets", "NextToken", "NextToken",
                                ServiceNamespace="dynamodb", ResourceIds=ids[i:i + 50])], notes)
        policies = c.partial("dynamodb", f"dynamodb {name} scaling policies",
                             lambda: [x for rid in ids for x in c.pages(
                                 "application-autoscaling", "describe_scaling_policies", "ScalingPolicies", "NextToken", "NextToken",
                                 ServiceNamespace="dynamodb", ResourceId=rid)], notes)
        for st in targets or []:
            scaling[(st["ResourceId"], st["ScalableDimension"])] = {
                "MinCapacity": st.get("MinCapacity"), "MaxCapacity": st.get("MaxCapacity"),
                "SuspendedState": st.get("SuspendedState") or None}
        for p in policies or []:
            key = (p.get("ResourceId"), p.get("ScalableDimension"))
            tt = p.get("TargetTrackingScalingPolicyConfiguration") or {}
            if key in scaling and tt.get("TargetValue") is not None:
                scaling[key]["TargetValue"] = tt.get("TargetValue")
        scaling_known = targets is not None
    else:
        scaling_known = True

    def autoscaling_of(rid: str, kind: str) -> dict[str, Any]:
        out = {}
        for dim, label in ((f"dynamodb:{kind}:ReadCapacityUnits", "read"), (f"dynamodb:{kind}:WriteCapacityUnits", "write")):
            if (rid, dim) in scaling:
                out[label] = {k: v for k, v in scaling[(rid, dim)].items() if v is not None}
        return out

    status = str(t.get("TableStatus") or "")
    worst, reasons = "healthy", [f"table {status}"]
    table_scaling = autoscaling_of(f"table/{name}", "table")
    c.add_row("dynamodb", table_name=name, index_name=None, kind="table", status=status, billing_mode=billing,
              read_capacity=pt.get("ReadCapacityUnits"), write_capacity=pt.get("WriteCapacityUnits"),
              autoscaling_read=_json_or_none(table_scaling.get("read")), autoscaling_write=_json_or_none(table_scaling.get("write")),
              item_count=t.get("ItemCount"), size_bytes=t.get("TableSizeBytes"))
    for key, value in (("TableStatus", status), ("BillingMode", billing),
                       ("ReadCapacityUnits", pt.get("ReadCapacityUnits")), ("WriteCapacityUnits", pt.get("WriteCapacityUnits"))):
        c.add_setting("dynamodb_table", name, key, value)
    if scaling_known:
        c.add_setting("dynamodb_table", name, "autoscaling", table_scaling)
    od = t.get("OnDemandThroughput") or {}
    for key in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        if od.get(key) is not None:
            c.add_setting("dynamodb_table", name, f"OnDemandThroughput.{key}", od.get(key))
    if status in ("ARCHIVED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "DELETING"):
        worst = "unhealthy"
    elif status != "ACTIVE":
        worst = "degraded"
    for g in gsis:
        iname = g.get("IndexName")
        rid = f"table/{name}/index/{iname}"
        gpt = g.get("ProvisionedThroughput") or {}
        gs = autoscaling_of(rid, "index")
        istatus = str(g.get("IndexStatus") or "")
        c.add_row("dynamodb", table_name=name, index_name=iname, kind="gsi", status=istatus, billing_mode=billing,
                  read_capacity=gpt.get("ReadCapacityUnits"), write_capacity=gpt.get("WriteCapacityUnits"),
                  autoscaling_read=_json_or_none(gs.get("read")), autoscaling_write=_json_or_none(gs.get("write")),
                  item_count=g.get("ItemCount"), size_bytes=g.get("IndexSizeBytes"))
        for key, value in (("IndexStatus", istatus), ("BillingMode", billing), ("ReadCapacityUnits", gpt.get("ReadCapacityUnits")),
                           ("WriteCapacityUnits", gpt.get("WriteCapacityUnits"))):
            c.add_setting("dynamodb_index", rid, key, value)
        if scaling_known:
            c.add_setting("dynamodb_index", rid, "autoscaling", gs)
        if istatus != "ACTIVE":
            worst = _worse(worst, "degraded")
            reasons.append(f"index {iname} {istatus}")
    for lsi in t.get("LocalSecondaryIndexes") or []:
        c.add_row("dynamodb", table_name=name, index_name=lsi.get("IndexName"), kind="lsi", status=status, billing_mode=billing,
                  item_count=lsi.get("ItemCount"), size_bytes=lsi.get("IndexSizeBytes"))
    c.alarm_targets.append(("dynamodb_table", name, {"TableName": name}))
    if billing == "PAY_PER_REQUEST":
        key = "on-demand"
    else:
        key = f"RCU {pt.get('ReadCapacityUnits')}, WCU {pt.get('WriteCapacityUnits')}"
        if scaling_known:
            key += ", autoscaling " + ("/".join(sorted(table_scaling)) if table_scaling else "none")
    c.add_summary("dynamodb_table", name, worst, "; ".join(reasons), key, "; ".join(notes))


def _json_or_none(value: Any) -> str | None:
    return None if not value else json.dumps(value, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# RDS
# --------------------------------------------------------------------------------------------

_RDS_DEGRADED = {"backing-up", "configuring-enhanced-monitoring", "configuring-iam-database-auth", "configuring-log-exports",
                 "converting-to-vpc", "maintenance", "modifying", "moving-to-vpc", "rebooting", "renaming",
                 "resetting-master-credentials", "starting", "stopping", "storage-optimization", "upgrading",
                 "creating", "storage-config-upgrade", "delete-precheck"}
_RDS_UNHEALTHY = {"failed", "inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable",
                  "incompatible-network", "incompatible-option-group", "incompatible-parameters", "incompatible-restore",
                  "insufficient-capacity", "restore-error", "storage-full", "stopped", "deleting"}


def _collect_rds(c: _Collector, db: str) -> None:
    found = c.call("rds", "describe_db_instances", DBInstanceIdentifier=db).get("DBInstances") or []
    if not found:
        raise NotFoundError(f"DB instance {db} not found", service="rds", operation="DescribeDBInstances")
    d = found[0]
    status = str(d.get("DBInstanceStatus") or "")
    groups = d.get("DBParameterGroups") or []
    pg = groups[0].get("DBParameterGroupName") if groups else None
    notes: list[str] = []
    max_conn = None
    if pg:
        params = c.partial("rds", f"rds {db} parameter group {pg}",
                           lambda: c.pages("rds", "describe_db_parameters", "Parameters", "Marker", "Marker",
                                           DBParameterGroupName=pg), notes)
        for p in params or []:
            if p.get("ParameterName") == "max_connections":
                max_conn = p.get("ParameterValue")
        if params is not None and max_conn is None:
            notes.append("max_connections not set in the parameter group: the engine default applies")
    arn = d.get("DBInstanceArn")
    pend = c.partial("rds", f"rds {db} pending maintenance",
                     lambda: c.call("rds", "describe_pending_maintenance_actions",
                                    Filters=[{"Name": "db-instance-id", "Values": [arn or db]}]), notes)
    pending = [f"{a.get('Action')}: {a.get('Description') or ''}".strip(": ")
               for r in ((pend or {}).get("PendingMaintenanceActions") or []) for a in r.get("PendingMaintenanceActionDetails") or []]
    events = c.partial("rds", f"rds {db} events",
                       lambda: c.call("rds", "describe_events", SourceIdentifier=db, SourceType="db-instance", Duration=1440), notes)
    for e in (events or {}).get("Events") or []:
        c.add_row("rds_events", timestamp=e.get("Date"), db_instance=db, message=e.get("Message"),
                  categories=",".join(e.get("EventCategories") or []))
    c.add_row("rds", db_instance=db, status=status, engine=d.get("Engine"), engine_version=d.get("EngineVersion"),
              instance_class=d.get("DBInstanceClass"), multi_az=d.get("MultiAZ"), parameter_group=pg,
              max_connections=max_conn, pending_maintenance="; ".join(pending) or None)
    for key in ("DBInstanceClass", "Engine", "EngineVersion", "MultiAZ", "DBInstanceStatus", "AllocatedStorage",
                "StorageType", "Iops"):
        if d.get(key) is not None:
            c.add_setting("rds_instance", db, key, d.get(key))
    c.add_setting("rds_instance", db, "DBParameterGroupName", pg)
    if max_conn is not None or pg:
        c.add_setting("rds_instance", db, "max_connections", max_conn)
    c.alarm_targets.append(("rds_instance", db, {"DBInstanceIdentifier": db}))
    if status == "available":
        state, reason = "healthy", "available"
    elif status in _RDS_UNHEALTHY:
        state, reason = "unhealthy", f"status {status}"
    elif status in _RDS_DEGRADED:
        state, reason = "degraded", f"status {status}"
    else:
        state, reason = "unknown", f"status {status}"
    if pending:
        reason += f"; pending maintenance: {pending[0]}" + (f" (+{len(pending) - 1})" if len(pending) > 1 else "")
    key = f"max_connections {max_conn}" if max_conn is not None else "max_connections engine default"
    details = f"{d.get('Engine')} {d.get('EngineVersion')} on {d.get('DBInstanceClass')}" + (", Multi-AZ" if d.get("MultiAZ") else "")
    if notes:
        details += "; " + "; ".join(notes)
    c.add_summary("rds_instance", db, state, reason, key, details)


# --------------------------------------------------------------------------------------------
# API Gateway
# --------------------------------------------------------------------------------------------

#: Throttling that applies when a stage sets none: the account-level quota per region.
APIGW_ACCOUNT_DEFAULT = (10_000.0, 5_000)


def _collect_apigw(c: _Collector, api: str, stages: list[str]) -> None:
    try:
        rest = c.call("apigateway", "get_rest_api", restApiId=api)
    except NotFoundError:
        rest = None
    if rest is not None:
        name = rest.get("name") or api
        if stages:
            items = [c.call("apigateway", "get_stage", restApiId=api, stageName=s) for s in stages]
        else:
            items = c.call("apigateway", "get_stages", restApiId=api).get("item") or []
        for st in items:
            _rest_stage(c, api, name, st)
        c.alarm_targets.append(("apigw_api", api, {"ApiName": name}))
    else:
        http = c.call("apigatewayv2", "get_api", ApiId=api)
        name = http.get("Name") or api
        if stages:
            items = [c.call("apigatewayv2", "get_stage", ApiId=api, StageName=s) for s in stages]
        else:
            items = c.pages("apigatewayv2", "get_stages", "Items", "NextToken", "NextToken", ApiId=api)
        for st in items:
            _http_stage(c, api, name, str(http.get("ProtocolType") or "HTTP").lower(), st)
        c.alarm_targets.append(("apigw_api", api, {"ApiId": api}))
    if not items:
        c.add_summary("apigw_api", api, "unhealthy", "no stage deployed: every request fails", "0 stages")


def _rest_stage(c: _Collector, api: str, name: str, st: Mapping[str, Any]) -> None:
    stage = st.get("stageName")
    rid = f"{api}/{stage}"
    ms = st.get("methodSettings") or {}
    default = ms.get("*/*") or {}
    rate, burst = default.get("throttlingRateLimit"), default.get("throttlingBurstLimit")
    scope_note = "stage" if rate is not None else "account default"
    if rate is None:
        rate, burst = APIGW_ACCOUNT_DEFAULT
    c.add_row("apigw_throttling", api_id=api, api_kind="rest", api_name=name, stage=stage, scope="*/*", rate_limit=rate, burst_limit=burst)
    c.add_setting("apigw_stage", rid, "methodSettings.*/*.throttlingRateLimit", default.get("throttlingRateLimit"))
    c.add_setting("apigw_stage", rid, "methodSettings.*/*.throttlingBurstLimit", default.get("throttlingBurstLimit"))
    overrides = []
    for key, m in ms.items():
        if key == "*/*":
            continue
        if "throttlingRateLimit" in m or "throttlingBurstLimit" in m:
            c.add_row("apigw_throttling", api_id=api, api_kind="rest", api_name=name, stage=stage, scope=key,
                      rate_limit=m.get("throttlingRateLimit"), burst_limit=m.get("throttlingBurstLimit"))
            c.add_setting("apigw_stage", rid, f"methodSettings.{key}.throttlingRateLimit", m.get("throttlingRateLimit"))
            c.add_setting("apigw_stage", rid, f"methodSettings.{key}.throttlingBurstLimit", m.get("throttlingBurstLimit"))
            overrides.append(key)
    c.add_setting("apigw_stage", rid, "deploymentId", st.get("deploymentId"))
    _apigw_summary(c, rid, float(rate), _int(burst), scope_note, overrides)


def _http_stage(c: _Collector, api: str, name: str, kind: str, st: Mapping[str, Any]) -> None:
    stage = st.get("StageName")
    rid = f"{api}/{stage}"
    d = st.get("DefaultRouteSettings") or {}
    rate, burst = d.get("ThrottlingRateLimit"), d.get("ThrottlingBurstLimit")
    scope_note = "stage" if rate is not None else "account default"
    if rate is None:
        rate, burst = APIGW_ACCOUNT_DEFAULT
    c.add_row("apigw_throttling", api_id=api, api_kind=kind, api_name=name, stage=stage, scope="$default", rate_limit=rate, burst_limit=burst)
    c.add_setting("apigw_stage", rid, "DefaultRouteSettings.ThrottlingRateLimit", d.get("ThrottlingRateLimit"))
    c.add_setting("apigw_stage", rid, "DefaultRouteSettings.ThrottlingBurstLimit", d.get("ThrottlingBurstLimit"))
    overrides = []
    for route, rs in (st.get("RouteSettings") or {}).items():
        if "ThrottlingRateLimit" in rs or "ThrottlingBurstLimit" in rs:
            c.add_row("apigw_throttling", api_id=api, api_kind=kind, api_name=name, stage=stage, scope=route,
                      rate_limit=rs.get("ThrottlingRateLimit"), burst_limit=rs.get("ThrottlingBurstLimit"))
            c.add_setting("apigw_stage", rid, f"RouteSettings.{route}.ThrottlingRateLimit", rs.get("ThrottlingRateLimit"))
            c.add_setting("apigw_stage", rid, f"RouteSettings.{route}.ThrottlingBurstLimit", rs.get("ThrottlingBurstLimit"))
            overrides.append(route)
    _apigw_summary(c, rid, float(rate), _int(burst), scope_note, overrides)


def _apigw_summary(c: _Collector, rid: str, rate: float, burst: int | None, scope: str, overrides: list[str]) -> None:
    key = f"rate {rate:g}/s, burst {burst}" + (f" ({scope})" if scope != "stage" else "")
    details = f"{len(overrides)} per-method/route throttling override(s)" if overrides else ""
    if rate <= 0 or (burst is not None and burst <= 0):
        c.add_summary("apigw_stage", rid, "unhealthy", "throttling limit 0: every request is rejected with 429", key, details)
    else:
        c.add_summary("apigw_stage", rid, "unknown", "API Gateway reports no health of its own; see alarms and metrics", key, details)


# --------------------------------------------------------------------------------------------
# ECS
# --------------------------------------------------------------------------------------------

_ECS_BAD_EVENT = ("unhealthy", "unable to place", "failed", "is unable", "stopped", "error")


def _collect_ecs(c: _Collector, cluster: str, service: str) -> None:
    resp = c.call("ecs", "describe_services", cluster=cluster, services=[service])
    rid = f"{cluster}/{service}"
    found = resp.get("services") or []
    if not found:
        fail = (resp.get("failures") or [{}])[0]
        raise NotFoundError(f"ECS service {rid}: {fail.get('reason') or 'not found'}", service="ecs", operation="DescribeServices")
    s = found[0]
    desired, running, pending = _int(s.get("desiredCount")) or 0, _int(s.get("runningCount")) or 0, _int(s.get("pendingCount")) or 0
    deps = s.get("deployments") or []
    primary = next((d for d in deps if d.get("status") == "PRIMARY"), deps[0] if deps else {})
    rollout = primary.get("rolloutState")
    c.add_row("ecs", cluster=cluster, service=service, status=s.get("status"), desired=desired, running=running, pending=pending,
              rollout_state=rollout, deployments=len(deps), task_definition=s.get("taskDefinition"))
    for d in deps:
        c.add_row("ecs_deployments", cluster=cluster, service=service, deployment_id=d.get("id"), status=d.get("status"),
                  rollout_state=d.get("rolloutState"), rollout_state_reason=d.get("rolloutStateReason"),
                  task_definition=d.get("taskDefinition"), desired=d.get("desiredCount"), running=d.get("runningCount"),
                  pending=d.get("pendingCount"), failed_tasks=d.get("failedTasks"), created_at=d.get("createdAt"),
                  updated_at=d.get("updatedAt"))
    events = sorted(s.get("events") or [], key=lambda e: _ts(e.get("createdAt")), reverse=True)[:20]
    for e in events:
        c.add_row("ecs_events", timestamp=e.get("createdAt"), cluster=cluster, service=service, message=e.get("message"))
    dc = s.get("deploymentConfiguration") or {}
    cb = dc.get("deploymentCircuitBreaker") or {}
    for key, value in (("desiredCount", desired), ("runningCount", running), ("pendingCount", pending),
                       ("launchType", s.get("launchType")), ("taskDefinition", s.get("taskDefinition")),
                       ("healthCheckGracePeriodSeconds", s.get("healthCheckGracePeriodSeconds")),
                       ("deploymentConfiguration.minimumHealthyPercent", dc.get("minimumHealthyPercent")),
                       ("deploymentConfiguration.maximumPercent", dc.get("maximumPercent")),
                       ("deploymentConfiguration.deploymentCircuitBreaker.enable", cb.get("enable")),
                       ("deploymentConfiguration.deploymentCircuitBreaker.rollback", cb.get("rollback"))):
        if value is not None:
            c.add_setting("ecs_service", rid, key, value)
    c.alarm_targets.append(("ecs_service", rid, {"ClusterName": cluster, "ServiceName": service}))
    recent_bad = [e for e in events[:5] if any(w in str(e.get("message", "")).lower() for w in _ECS_BAD_EVENT)]
    if str(s.get("status")) != "ACTIVE":
        state, reason = "unhealthy", f"service status {s.get('status')}"
    elif desired > 0 and running == 0:
        state, reason = "unhealthy", f"0 of {desired} tasks running"
    elif rollout == "FAILED":
        state, reason = "unhealthy", f"deployment FAILED: {primary.get('rolloutStateReason') or ''}".strip()
    elif running < desired:
        state, reason = "degraded", f"{running} of {desired} tasks running"
    elif len(deps) > 1 or rollout == "IN_PROGRESS":
        state, reason = "degraded", "a deployment is in progress"
    else:
        state, reason = "healthy", "desired tasks running"
    if recent_bad and state != "unhealthy":
        state = _worse(state, "degraded")
        reason += f"; recent event: {str(recent_bad[0].get('message'))[:160]}"
    c.add_summary("ecs_service", rid, state, reason, f"{running}/{desired} running", f"{len(deps)} deployment(s); rollout {rollout}")


# --------------------------------------------------------------------------------------------
# security groups
# --------------------------------------------------------------------------------------------


def _collect_security_groups(c: _Collector, ids: list[str]) -> None:
    groups = c.pages("ec2", "describe_security_groups", "SecurityGroups", "NextToken", "NextToken", GroupIds=ids)
    got = {g.get("GroupId") for g in groups}
    for gid in ids:
        if gid not in got:
            c.add_summary("security_group", gid, "unhealthy", "NotFound: no such security group (deleted, or a wrong id?)")
    for g in groups:
        gid = g.get("GroupId")
        c.add_setting("security_group", gid, "GroupName", g.get("GroupName"))
        c.add_setting("security_group", gid, "VpcId", g.get("VpcId"))
        c.add_setting("security_group", gid, "IpPermissions", g.get("IpPermissions") or [])
        c.add_setting("security_group", gid, "IpPermissionsEgress", g.get("IpPermissionsEgress") or [])
        for direction, perms in (("ingress", g.get("IpPermissions") or []), ("egress", g.get("IpPermissionsEgress") or [])):
            for p in perms:
                base = dict(group_id=gid, group_name=g.get("GroupName"), direction=direction, protocol=str(p.get("IpProtocol")),
                            from_port=p.get("FromPort"), to_port=p.get("ToPort"))
                for r in p.get("IpRanges") or []:
                    c.add_row("security_group_rules", **base, source=r.get("CidrIp"), source_type="cidr4", description=r.get("Description"))
                for r in p.get("Ipv6Ranges") or []:
                    c.add_row("security_group_rules", **base, source=r.get("CidrIpv6"), source_type="cidr6", description=r.get("Description"))
                for r in p.get("PrefixListIds") or []:
                    c.add_row("security_group_rules", **base, source=r.get("PrefixListId"), source_type="prefix_list",
                              description=r.get("Description"))
                for r in p.get("UserIdGroupPairs") or []:
                    c.add_row("security_group_rules", **base, source=r.get("GroupId"), source_type="security_group",
                              description=r.get("Description"))


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


# --------------------------------------------------------------------------------------------
# CloudWatch alarms
# --------------------------------------------------------------------------------------------


def _collect_alarms(c: _Collector, history: int) -> None:
    alarms = c.pages("cloudwatch", "describe_alarms", "MetricAlarms", "NextToken", "NextToken", AlarmTypes=["MetricAlarm"])
    matched: list[tuple[Mapping[str, Any], str, str]] = []
    for a in alarms:
        dim_sets = [{d.get("Name"): d.get("Value") for d in a.get("Dimensions") or []}]
        for m in a.get("Metrics") or []:
            metric = (m.get("MetricStat") or {}).get("Metric") or {}
            dim_sets.append({d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or []})
        best: tuple[int, str, str] | None = None
        for rtype, rid, want in c.alarm_targets:
            if any(all(ds.get(k) == v for k, v in want.items()) for ds in dim_sets if ds):
                # an alarm on TargetGroup + LoadBalancer concerns the target group
                score = len(want) + (1 if "TargetGroup" in want else 0)
                if best is None or score > best[0]:
                    best = (score, rtype, rid)
        if best is not None:
            matched.append((a, best[1], best[2]))
    in_alarm: dict[tuple[str, str], list[str]] = {}
    for a, rtype, rid in matched:
        dims = {d.get("Name"): d.get("Value") for d in a.get("Dimensions") or []}
        c.add_row("alarms", alarm_name=a.get("AlarmName"), resource_type=rtype, resource_id=rid, state=a.get("StateValue"),
                  state_reason=a.get("StateReason"), state_updated=a.get("StateUpdatedTimestamp"), namespace=a.get("Namespace"),
                  metric_name=a.get("MetricName"), dimensions=json.dumps(dims, sort_keys=True, separators=(",", ":")),
                  actions_enabled=a.get("ActionsEnabled"))
        if a.get("StateValue") == "ALARM":
            in_alarm.setdefault((rtype, rid), []).append(str(a.get("AlarmName")))
    order = sorted(matched, key=lambda x: (x[0].get("StateValue") != "ALARM", -_ts(x[0].get("StateUpdatedTimestamp")).value
                                           if _ts(x[0].get("StateUpdatedTimestamp")) is not pd.NaT else 0))
    if history > 0:
        if len(order) > MAX_ALARM_HISTORY:
            c.add_issue("cloudwatch", f"alarm history read for {MAX_ALARM_HISTORY} of {len(order)} matched alarms "
                                      "(those in ALARM first, then the most recently changed)")
        notes: list[str] = []
        for a, rtype, rid in order[:MAX_ALARM_HISTORY]:
            resp = c.partial("cloudwatch", f"alarm {a.get('AlarmName')} history",
                             lambda a=a: c.call("cloudwatch", "describe_alarm_history", AlarmName=a.get("AlarmName"),
                                                HistoryItemType="StateUpdate", MaxRecords=history, ScanBy="TimestampDescending"),
                             notes)
            if resp is None:
                break  # the same permission or endpoint gap applies to every alarm
            for h in resp.get("AlarmHistoryItems") or []:
                old = new = None
                try:
                    data = json.loads(h.get("HistoryData") or "{}")
                    old = (data.get("oldState") or {}).get("stateValue")
                    new = (data.get("newState") or {}).get("stateValue")
                except ValueError:
                    pass
                c.add_row("alarm_history", timestamp=h.get("Timestamp"), alarm_name=h.get("AlarmName"), resource_type=rtype,
                          resource_id=rid, old_state=old, new_state=new, summary=h.get("HistorySummary"))
    # alarms in ALARM make their resource at least degraded
    for row in c.summary:
        names = in_alarm.get((row["resource_type"], row["resource_id"]))
        if not names:
            continue
        text = f"alarm {names[0]} in ALARM" + (f" (+{len(names) - 1})" if len(names) > 1 else "")
        if row["state"] in ("healthy", "unknown"):
            row["state"] = "degraded"
            row["reason"] = text
        else:
            row["reason"] = f"{row['reason']}; {text}"
    n_alarm = sum(len(v) for v in in_alarm.values())
    state = "degraded" if n_alarm else "healthy"
    reason = (f"{n_alarm} alarm(s) in ALARM: " + ", ".join(n for v in in_alarm.values() for n in v)[:200]) if n_alarm else \
        ("no alarm in ALARM" if matched else "no alarm watches these resources")
    c.add_summary("cloudwatch_alarms", "*", state if matched else "unknown", reason, f"{n_alarm} in ALARM of {len(matched)}",
                  "; ".join(notes) if history > 0 else "")


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def _summary_of(obj: HealthSnapshot | pd.DataFrame) -> pd.DataFrame:
    return obj.summary if isinstance(obj, HealthSnapshot) else obj


#: The exit code of a snapshot that could not look at every resource (and found none unhealthy).
EXIT_NOT_COLLECTED = 3


def exit_code(summary: HealthSnapshot | pd.DataFrame) -> int:
    """``1`` when any resource is unhealthy; else ``3`` (:data:`EXIT_NOT_COLLECTED`) when one could
    not be read — a snapshot that did not look cannot say it is healthy; else ``0`` (degraded
    and unknown do not fail).

    Example
    -------
    >>> import pandas as pd
    >>> exit_code(pd.DataFrame({"state": ["healthy", "degraded"]}))
    0
    >>> exit_code(pd.DataFrame({"state": ["healthy", "unhealthy", "not_collected"]}))
    1
    >>> exit_code(pd.DataFrame({"state": ["healthy", "not_collected"]}))
    3
    """
    df = _summary_of(summary)
    if not len(df):
        return 0
    if (df["state"] == "unhealthy").any():
        return 1
    return EXIT_NOT_COLLECTED if (df["state"] == "not_collected").any() else 0


def format_table(summary: HealthSnapshot | pd.DataFrame, *, width: int = 160) -> str:
    """A compact text table: one line per resource — state, resource, the number that matters, reason.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame([{"resource_type": "lambda_function", "resource_id": "api", "state": "healthy",
    ...                     "reason": "Active", "key_number": "reserved none", "details": ""}])
    >>> print(format_table(df))
    STATE    RESOURCE             KEY NUMBER     REASON
    healthy  lambda_function api  reserved none  Active
    """
    df = _summary_of(summary)
    header = ("STATE", "RESOURCE", "KEY NUMBER", "REASON")
    rows = []
    for r in df.itertuples(index=False):
        rid = str(r.resource_id)
        if rid.startswith("arn:") and rid.count(":") >= 5:
            rid = rid.split(":", 5)[5]  # targetgroup/web/61a1a3d94d8ed630
        rid = _shorten(rid, 64)
        rows.append((str(r.state), f"{r.resource_type} {rid}", _na(r.key_number), _na(r.reason)))
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    lines = []
    for row in [header, *rows]:
        head = "  ".join(str(row[i]).ljust(widths[i]) for i in range(3))
        room = max(20, width - len(head) - 2)
        reason = row[3] if len(row[3]) <= room else row[3][: room - 1] + "…"
        lines.append(f"{head}  {reason}".rstrip())
    collected = getattr(summary, "collected_at", None) or df.attrs.get("collected_at")
    if collected is not None:
        lines.insert(0, f"health snapshot collected {_iso(collected)}")
    return "\n".join(lines)


def _na(value: Any) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1):]
