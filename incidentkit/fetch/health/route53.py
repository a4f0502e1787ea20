"""Health of Route 53 health checks: every checker's observation and which ones disagree."""

from __future__ import annotations

from collections import Counter

from .collector import _Collector

#: Route 53 considers an endpoint healthy when more than this share of its checkers say so.
ROUTE53_HEALTHY_SHARE = 0.18

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
