"""Health of DynamoDB tables and their indexes: status, capacity and autoscaling."""

from __future__ import annotations

import json
from typing import Any

from ..._util import resource_ids
from .collector import _Collector
from .frames import _worse

#: Table statuses in which the table cannot serve (every other status but ACTIVE degrades it).
_UNHEALTHY_STATUSES = ("ARCHIVED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "DELETING")

#: (ResourceId, ScalableDimension) -> the scalable target's bounds and its target-tracking value.
Scaling = dict[tuple[str, str], dict[str, Any]]


def _collect_dynamodb(c: _Collector, table: str) -> None:
    """One table and its indexes: status, capacity and autoscaling, judged by the table's and the GSIs' status."""
    ref = resource_ids.parse(table, "table")  # a name or a table ARN (its index part names no other table)
    t = c.call("dynamodb", "describe_table", TableName=ref.name if ref is not None else table).get("Table") or {}
    name = t.get("TableName") or table
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    notes: list[str] = []
    scaling: Scaling = {}
    scaling_known = True
    if billing == "PROVISIONED":
        scaling, scaling_known = _read_autoscaling(c, name, t.get("GlobalSecondaryIndexes") or [], notes)
    status = str(t.get("TableStatus") or "")
    table_scaling = _record_table(c, t, name, billing, scaling, scaling_known)
    if status in _UNHEALTHY_STATUSES:
        worst = "unhealthy"
    elif status != "ACTIVE":
        worst = "degraded"
    else:
        worst = "healthy"
    not_active = _record_indexes(c, t, name, billing, scaling, scaling_known)
    if not_active:
        worst = _worse(worst, "degraded")
    c.alarm_targets.append(("dynamodb_table", name, {"TableName": name}))
    key = _capacity_key(billing, t.get("ProvisionedThroughput") or {}, table_scaling, scaling_known)
    c.add_summary("dynamodb_table", name, worst, "; ".join([f"table {status}", *not_active]), key, "; ".join(notes))


def _read_autoscaling(c: _Collector, name: str, gsis: list[dict[str, Any]], notes: list[str]) -> tuple[Scaling, bool]:
    """Application Auto Scaling's targets and target-tracking values of a table and its GSIs (and whether the targets were read)."""
    ids = [f"table/{name}"] + [f"table/{name}/index/{g.get('IndexName')}" for g in gsis]
    targets = c.partial("dynamodb", f"dynamodb {name} autoscaling targets",
                        lambda: [x for i in range(0, len(ids), 50) for x in c.pages(
                            "application-autoscaling", "describe_scalable_targets", "ScalableTargets", "NextToken", "NextToken",
                            ServiceNamespace="dynamodb", ResourceIds=ids[i:i + 50])], notes)
    policies = c.partial("dynamodb", f"dynamodb {name} scaling policies",
                         lambda: [x for rid in ids for x in c.pages(
                             "application-autoscaling", "describe_scaling_policies", "ScalingPolicies", "NextToken", "NextToken",
                             ServiceNamespace="dynamodb", ResourceId=rid)], notes)
    scaling: Scaling = {}
    for st in targets or []:
        scaling[(st["ResourceId"], st["ScalableDimension"])] = {
            "MinCapacity": st.get("MinCapacity"), "MaxCapacity": st.get("MaxCapacity"),
            "SuspendedState": st.get("SuspendedState") or None}
    for p in policies or []:
        key = (p.get("ResourceId"), p.get("ScalableDimension"))
        tt = p.get("TargetTrackingScalingPolicyConfiguration") or {}
        if key in scaling and tt.get("TargetValue") is not None:
            scaling[key]["TargetValue"] = tt.get("TargetValue")
    return scaling, targets is not None


def _autoscaling_of(scaling: Scaling, rid: str, kind: str) -> dict[str, Any]:
    """The read and write autoscaling of one table or index (``kind``: ``table`` or ``index``), by label."""
    out = {}
    for dim, label in ((f"dynamodb:{kind}:ReadCapacityUnits", "read"), (f"dynamodb:{kind}:WriteCapacityUnits", "write")):
        if (rid, dim) in scaling:
            out[label] = {k: v for k, v in scaling[(rid, dim)].items() if v is not None}
    return out


def _record_table(c: _Collector, t: dict[str, Any], name: str, billing: str, scaling: Scaling,
                  scaling_known: bool) -> dict[str, Any]:
    """The table's row and settings (capacity, autoscaling, on-demand maximums); returns its autoscaling."""
    pt = t.get("ProvisionedThroughput") or {}
    status = str(t.get("TableStatus") or "")
    table_scaling = _autoscaling_of(scaling, f"table/{name}", "table")
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
    return table_scaling


def _record_indexes(c: _Collector, t: dict[str, Any], name: str, billing: str, scaling: Scaling,
                    scaling_known: bool) -> list[str]:
    """The rows and settings of the global and local secondary indexes; returns a reason per GSI not ACTIVE."""
    not_active: list[str] = []
    for g in t.get("GlobalSecondaryIndexes") or []:
        iname = g.get("IndexName")
        rid = f"table/{name}/index/{iname}"
        gpt = g.get("ProvisionedThroughput") or {}
        gs = _autoscaling_of(scaling, rid, "index")
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
            not_active.append(f"index {iname} {istatus}")
    status = str(t.get("TableStatus") or "")
    for lsi in t.get("LocalSecondaryIndexes") or []:
        c.add_row("dynamodb", table_name=name, index_name=lsi.get("IndexName"), kind="lsi", status=status, billing_mode=billing,
                  item_count=lsi.get("ItemCount"), size_bytes=lsi.get("IndexSizeBytes"))
    return not_active


def _capacity_key(billing: str, pt: dict[str, Any], table_scaling: dict[str, Any], scaling_known: bool) -> str:
    """The summary's key number: on-demand, or the provisioned RCU/WCU and which of them autoscale."""
    if billing == "PAY_PER_REQUEST":
        return "on-demand"
    key = f"RCU {pt.get('ReadCapacityUnits')}, WCU {pt.get('WriteCapacityUnits')}"
    if scaling_known:
        key += ", autoscaling " + ("/".join(sorted(table_scaling)) if table_scaling else "none")
    return key


def _json_or_none(value: Any) -> str | None:
    """Compact, key-sorted JSON of a non-empty value; ``None`` for an empty one."""
    return None if not value else json.dumps(value, sort_keys=True, separators=(",", ":"))
