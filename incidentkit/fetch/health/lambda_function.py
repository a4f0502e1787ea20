"""Health of Lambda functions: state, last update, reserved and provisioned concurrency, the account limit."""

from __future__ import annotations

from .collector import _Collector
from .frames import _int


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
