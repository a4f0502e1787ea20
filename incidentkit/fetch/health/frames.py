"""The health snapshot's tables: summary states, the detail frames' columns and how rows become typed frames."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ... import schema
from ...window import utc_or_nat

#: Summary states, worst first (``not_collected``: we could not look).
STATES = ("unhealthy", "degraded", "not_collected", "unknown", "healthy")
SUMMARY_COLUMNS = ("resource_type", "resource_id", "state", "reason", "key_number", "details")
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


def _make_frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    spec = FRAME_COLUMNS[name]
    data: dict[str, pd.Series] = {}
    for col, dtype in spec.items():
        values = [r.get(col) for r in rows]
        if dtype == _TS:
            data[col] = schema.utc(pd.Series([utc_or_nat(v) for v in values], dtype=object)) if values else pd.Series([], dtype=_TS)
        elif dtype == "Int64":
            data[col] = pd.Series([_int(v) for v in values], dtype="Int64")
        elif dtype == "float64":
            data[col] = pd.Series([float(v) if v is not None else float("nan") for v in values], dtype="float64")
        elif dtype == "boolean":
            data[col] = pd.Series([None if v is None else bool(v) for v in values], dtype="boolean")
        else:
            data[col] = pd.Series([None if v is None else str(v) for v in values], dtype="string")
    return pd.DataFrame(data)


def _settings_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    # built here rather than with schema.conform: schema.DTYPES types ``value`` as the metrics'
    # float64, while a setting's value is text ("HTTP", "{DBInstanceClassMemory/12582880}", "30")
    data: dict[str, pd.Series] = {}
    for col in schema.SETTING_COLUMNS:
        values = [r.get(col) for r in rows]
        if col == "timestamp":
            data[col] = pd.Series(values, dtype=object).map(utc_or_nat).astype(_TS) if values else pd.Series([], dtype=_TS)
        else:
            data[col] = pd.Series([None if v is None or v is pd.NA else str(v) for v in values], dtype="string")
    return pd.DataFrame(data)


def _summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype("string")
    if df.empty:
        return df
    df["_rank"] = df["state"].map(_STATE_RANK)
    return df.sort_values(["_rank", "resource_type", "resource_id"], kind="stable").drop(columns="_rank").reset_index(drop=True)


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
