"""Health of Elastic Load Balancing: load balancers, target groups and their targets."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from ..._util import resource_ids
from ...errors import NotFoundError, ParameterError
from .collector import _Collector

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
