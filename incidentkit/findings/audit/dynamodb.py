"""DynamoDB: provisioned capacity that does not follow demand (no autoscaling).

Example
-------
>>> s = pd.DataFrame({"resource_type": "dynamodb_table", "resource_id": "orders",
...     "setting": ["BillingMode", "autoscaling"], "value": ["PROVISIONED", "{}"]})
>>> check_dynamodb_autoscaling(s)[0].evidence["missing"]
'read,write'
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd  # noqa: F401 - the docstring examples use pd

from .inputs import _obs, _Settings
from .results import AuditResult, not_checked

__all__ = ["check_dynamodb_autoscaling"]


def check_dynamodb_autoscaling(settings: Any, observed: Any = None) -> list[AuditResult]:
    """PROVISIONED tables and global secondary indexes without autoscaling on read or write.

    Fixed capacity drains in seconds under a burst (incident 5: 10,000 concurrent writes;
    incident 8: a daily Scan). ``high`` when throttling was observed for the missing dimension.

    Example
    -------
    >>> s = pd.DataFrame({"resource_type": "dynamodb_table", "resource_id": "orders",
    ...     "setting": ["BillingMode", "ReadCapacityUnits", "WriteCapacityUnits", "autoscaling"],
    ...     "value": ["PROVISIONED", "5", "5", '{"read":{"MaxCapacity":50,"MinCapacity":5}}']})
    >>> r = check_dynamodb_autoscaling(s)
    >>> r[0].evidence["missing"], r[0].severity
    ('write', 'medium')
    """
    st = _Settings(settings)
    out: list[AuditResult] = []
    for rtype, kind in (("dynamodb_table", "table"), ("dynamodb_index", "index")):
        for rid in st.resources(rtype):
            if (st.get(rtype, rid, "BillingMode") or "PROVISIONED") != "PROVISIONED":
                continue
            if not st.has(rtype, rid, "autoscaling"):
                out.append(not_checked(rid, "DynamoDB autoscaling was not collected (application-autoscaling:DescribeScalableTargets)"))
                continue
            try:
                scaling = json.loads(st.get(rtype, rid, "autoscaling") or "{}")
            except ValueError:
                scaling = {}
            missing = [d for d in ("read", "write") if d not in scaling]
            if not missing:
                continue
            rcu = st.num(rtype, rid, "ReadCapacityUnits")
            wcu = st.num(rtype, rid, "WriteCapacityUnits")
            throttled = {
                "read": _obs(observed, rid, "read_throttle_events"),
                "write": _obs(observed, rid, "write_throttle_events"),
            }
            any_throttle = _obs(observed, rid, "throttle_events")
            hot = [d for d in missing if (throttled[d] or 0) > 0] or ([d for d in missing] if (any_throttle or 0) > 0 else [])
            severity = "high" if hot else "medium"
            resource_id = rid if rid.startswith("table/") else f"table/{rid}"
            evidence: dict[str, Any] = {"billing_mode": "PROVISIONED", "missing": ",".join(missing)}
            if rcu is not None:
                evidence["read_capacity_units"] = rcu
            if wcu is not None:
                evidence["write_capacity_units"] = wcu
            for d in ("read", "write"):
                if throttled[d] is not None:
                    evidence[f"observed_{d}_throttle_events"] = throttled[d]
            fix: list[str] = []
            for d in missing:
                dim = f"dynamodb:{kind}:{'Read' if d == 'read' else 'Write'}CapacityUnits"
                cur = rcu if d == "read" else wcu
                lo = int(cur) if cur else 5
                hi = max(lo * 10, 100)
                metric = "DynamoDBReadCapacityUtilization" if d == "read" else "DynamoDBWriteCapacityUtilization"
                fix.append(
                    f"aws application-autoscaling register-scalable-target --service-namespace dynamodb --resource-id {resource_id} "
                    f"--scalable-dimension {dim} --min-capacity {lo} --max-capacity {hi}")
                fix.append(
                    f"aws application-autoscaling put-scaling-policy --service-namespace dynamodb --resource-id {resource_id} "
                    f"--scalable-dimension {dim} --policy-name {d}-target-70 --policy-type TargetTrackingScaling "
                    f"--target-tracking-scaling-policy-configuration "
                    f"'{{\"TargetValue\":70.0,\"PredefinedMetricSpecification\":{{\"PredefinedMetricType\":\"{metric}\"}}}}'")
            if kind == "table":
                fix.append(f"Or, for spiky traffic, switch to on-demand: aws dynamodb update-table --table-name {rid} "
                           "--billing-mode PAY_PER_REQUEST")
            fix.append("Autoscaling reacts in minutes, not seconds: writers must still retry throttled calls with "
                       "exponential backoff and jitter (the AWS SDKs' standard/adaptive retry modes) and batch bursts.")
            throttle_text = f" and throttling was observed on {', '.join(hot)}" if hot else ""
            out.append(AuditResult(
                "dynamodb-no-autoscaling", rid, severity,
                f"{rid} has fixed provisioned capacity (RCU {f'{rcu:g}' if rcu is not None else '?'}, WCU "
                f"{f'{wcu:g}' if wcu is not None else '?'}) with no autoscaling on {' and '.join(missing)}{throttle_text}: "
                "a burst drains it in seconds and every further call is throttled.",
                evidence, fix))
    return out
