"""Health of DynamoDB tables and their indexes: status, capacity and autoscaling."""

from __future__ import annotations

import json
from typing import Any

from ..._util import resource_ids
from .collector import _Collector
from .frames import _worse


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
