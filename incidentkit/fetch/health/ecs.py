"""Health of ECS services: desired vs running tasks, deployments and recent service events."""

from __future__ import annotations

from ...errors import NotFoundError
from .collector import _Collector
from ...window import utc_or_nat
from .frames import _int, _worse

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
    events = sorted(s.get("events") or [], key=lambda e: utc_or_nat(e.get("createdAt")), reverse=True)[:20]
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
