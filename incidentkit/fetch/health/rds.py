"""Health of RDS DB instances: status, max_connections, pending maintenance and recent events."""

from __future__ import annotations

from ...errors import NotFoundError
from .collector import _Collector

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
