"""Load-balancer target groups: health checks that flap healthy targets, deregistration delays that cut requests.

Example
-------
>>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg",
...     "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "UnhealthyThresholdCount"],
...     "value": ["5", "2", "2"]})
>>> [(r.check_id, r.severity) for r in check_target_group_health_checks(s)]
[('tg-health-check-too-tight', 'high')]
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd  # noqa: F401 - the docstring examples use pd

from .inputs import _fmt_s, _obs, _Settings
from .results import AuditResult, not_checked

__all__ = ["check_target_group_health_checks", "check_deregistration_delay", "MIN_SECONDS_TO_UNHEALTHY",
           "COMFORTABLE_SECONDS_TO_UNHEALTHY"]

#: A target should survive this many seconds of failed checks (a GC pause, a CPU spike, a
#: deploy warm-up) before it is taken out of service. The ALB default is 30 s × 2 = 60 s.
MIN_SECONDS_TO_UNHEALTHY = 15
#: Below this (but at or above :data:`MIN_SECONDS_TO_UNHEALTHY`) a low-severity note.
COMFORTABLE_SECONDS_TO_UNHEALTHY = 30


def _recommend_health_check(interval: float, timeout: float, unhealthy: float, p99_s: float | None) -> tuple[int, int, int]:
    """Settings that survive >= 30 s of slowness and time out only well above p99 (within AWS's limits)."""
    new_timeout = max(int(timeout), 5, math.ceil(2 * p99_s) if p99_s else 0)
    new_timeout = min(new_timeout, 120)
    new_interval = max(int(interval), 10, new_timeout + 5)  # ALB: the timeout must be shorter than the interval
    new_interval = min(new_interval, 300)
    new_unhealthy = max(int(unhealthy), math.ceil(COMFORTABLE_SECONDS_TO_UNHEALTHY / new_interval))
    new_unhealthy = min(max(new_unhealthy, 2), 10)
    if new_interval * new_unhealthy < COMFORTABLE_SECONDS_TO_UNHEALTHY:
        new_interval = min(300, math.ceil(COMFORTABLE_SECONDS_TO_UNHEALTHY / new_unhealthy))
    return new_interval, new_timeout, new_unhealthy


def check_target_group_health_checks(settings: Any, observed: Any = None) -> list[AuditResult]:
    """Health checks that take targets out of service on a transient stall, or time out on ordinary slowness.

    A target is marked unhealthy after ``UnhealthyThresholdCount`` consecutive failed checks,
    ``HealthCheckIntervalSeconds`` apart: ``interval × threshold`` seconds of slowness are
    enough. Below :data:`MIN_SECONDS_TO_UNHEALTHY` (15 s) a GC pause or a CPU spike flaps
    healthy targets out (incident 6: interval 5 s, timeout 2 s). A ``HealthCheckTimeoutSeconds``
    below the observed p99 response time makes checks fail under ordinary load.

    Example
    -------
    >>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg",
    ...     "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "UnhealthyThresholdCount"],
    ...     "value": ["30", "5", "2"]})
    >>> check_target_group_health_checks(s)
    []
    """
    st = _Settings(settings)
    out: list[AuditResult] = []
    for tg in st.resources("target_group"):
        if (st.get("target_group", tg, "HealthCheckEnabled") or "").lower() == "false":
            continue
        interval = st.num("target_group", tg, "HealthCheckIntervalSeconds")
        timeout = st.num("target_group", tg, "HealthCheckTimeoutSeconds")
        unhealthy = st.num("target_group", tg, "UnhealthyThresholdCount")
        healthy = st.num("target_group", tg, "HealthyThresholdCount")
        if interval is None or timeout is None or unhealthy is None:
            if any(st.has("target_group", tg, k) for k in ("Protocol", "TargetType", "deregistration_delay.timeout_seconds")):
                out.append(not_checked(tg, "target-group health-check settings were not collected"))
            continue
        p99 = _obs(observed, tg, "p99_ms")
        p99_s = p99 / 1000 if p99 is not None else None
        ttu = interval * unhealthy
        ni, nt, nu = _recommend_health_check(interval, timeout, unhealthy, p99_s)
        fix = [
            f"Set HealthCheckIntervalSeconds={ni}, HealthCheckTimeoutSeconds={nt}, UnhealthyThresholdCount={nu} on {tg}: "
            f"a target then needs {ni * nu} s of failed checks (now {ttu:g} s) before it is taken out of service.",
            f"aws elbv2 modify-target-group --target-group-arn {tg} --health-check-interval-seconds {ni} "
            f"--health-check-timeout-seconds {nt} --unhealthy-threshold-count {nu}",
            "Keep the health-check path shallow (no database or downstream calls) so it answers within the timeout "
            "under load; run deep dependency checks in a separate monitor, not in the routing check.",
        ]
        evidence = {"health_check_interval_s": interval, "health_check_timeout_s": timeout, "unhealthy_threshold": unhealthy,
                    "seconds_to_unhealthy": ttu}
        if healthy is not None:
            evidence["healthy_threshold"] = healthy
        if p99 is not None:
            evidence["observed_p99_ms"] = round(p99, 1)
        if ttu < MIN_SECONDS_TO_UNHEALTHY:
            out.append(AuditResult(
                "tg-health-check-too-tight", tg, "high",
                f"{tg} marks a target unhealthy after {unhealthy:g} failed checks {interval:g} s apart: {ttu:g} s of "
                f"slowness (a GC pause, a CPU spike, a deploy warm-up) takes a healthy target out of service"
                + (f", and {healthy:g} passing checks bring it back" if healthy is not None else "")
                + " — the flapping of incidents 6 and 9.",
                evidence, fix))
        elif ttu < COMFORTABLE_SECONDS_TO_UNHEALTHY:
            out.append(AuditResult(
                "tg-health-check-too-tight", tg, "low",
                f"{tg} takes a target out of service after {ttu:g} s of failed checks ({unhealthy:g} × {interval:g} s); "
                f"{COMFORTABLE_SECONDS_TO_UNHEALTHY} s or more rides out transient spikes.",
                evidence, fix[:2]))
        if p99_s is not None and timeout < p99_s:
            out.append(AuditResult(
                "tg-health-check-timeout-below-p99", tg, "high",
                f"{tg}'s health-check timeout ({_fmt_s(timeout)}) is below the observed p99 response time "
                f"({_fmt_s(p99_s)}): when the service is busy, 1 check in 100 can time out, and "
                f"{unhealthy:g} in a row mark a healthy target unhealthy.",
                evidence, fix))
        elif p99_s is None and timeout <= 2 and ttu >= MIN_SECONDS_TO_UNHEALTHY:
            out.append(AuditResult(
                "tg-health-check-timeout-below-p99", tg, "low",
                f"{tg}'s health-check timeout is {_fmt_s(timeout)}; without observed response times the audit cannot "
                "tell whether busy periods exceed it (pass observed p99).",
                evidence, fix[:2]))
    return out


def check_deregistration_delay(settings: Any, observed: Any = None) -> list[AuditResult]:
    """``deregistration_delay.timeout_seconds`` shorter than the slowest requests in flight.

    When a target is deregistered (every blue/green or rolling deploy) the load balancer waits
    this long for in-flight requests, then cuts them: requests slower than the delay end in
    502/504 (incident 10: 30 s delay, 60 s API calls). Judged against the observed p99.9
    (``high``) and maximum (``medium``) request duration; without observations, an ``info``
    note.

    Example
    -------
    >>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg",
    ...     "setting": ["deregistration_delay.timeout_seconds"], "value": ["30"]})
    >>> [r.severity for r in check_deregistration_delay(s, {"p999_ms": 58000, "max_ms": 61000})]
    ['high']
    """
    st = _Settings(settings)
    out: list[AuditResult] = []
    for tg in st.resources("target_group"):
        delay = st.num("target_group", tg, "deregistration_delay.timeout_seconds")
        if delay is None:
            continue
        p999, mx = _obs(observed, tg, "p999_ms"), _obs(observed, tg, "max_ms")
        if p999 is None and mx is None:
            out.append(AuditResult(
                "deregistration-delay-too-short", tg, "info",
                f"{tg}: deregistration delay {delay:g} s not compared with request durations (pass observed p99.9 / max).",
                {"deregistration_delay_s": delay}, []))
            continue
        slow_p999 = p999 / 1000 if p999 is not None else None
        slow_max = mx / 1000 if mx is not None else None
        evidence: dict[str, Any] = {"deregistration_delay_s": delay}
        if slow_p999 is not None:
            evidence["observed_p999_s"] = round(slow_p999, 3)
        if slow_max is not None:
            evidence["observed_max_s"] = round(slow_max, 3)
        slowest = max(v for v in (slow_p999, slow_max) if v is not None)
        target = min(3600, max(math.ceil(slowest * 1.25), math.ceil((slow_p999 or 0) * 1.5), int(delay) + 1))
        fix = [
            f"Set deregistration_delay.timeout_seconds to {target} on {tg} (slowest observed request {slowest:.1f} s, "
            f"now {delay:g} s), so requests in flight finish before the target is removed.",
            f"aws elbv2 modify-target-group-attributes --target-group-arn {tg} "
            f"--attributes Key=deregistration_delay.timeout_seconds,Value={target}",
            "If some requests are legitimately very long (exports, uploads), move them to an asynchronous job "
            "rather than stretching every deployment by the delay.",
        ]
        if slow_p999 is not None and delay < slow_p999:
            out.append(AuditResult(
                "deregistration-delay-too-short", tg, "high",
                f"{tg} cuts in-flight requests {delay:g} s after a target is deregistered, but 1 request in 1,000 takes "
                f"{slow_p999:.1f} s or more: every deploy turns those into 502s (incident 10).",
                evidence, fix))
        elif slow_max is not None and delay < slow_max:
            out.append(AuditResult(
                "deregistration-delay-too-short", tg, "medium",
                f"{tg}'s deregistration delay ({delay:g} s) is shorter than the slowest observed request "
                f"({slow_max:.1f} s): the rare slowest requests are cut at each deploy.",
                evidence, fix))
    return out
