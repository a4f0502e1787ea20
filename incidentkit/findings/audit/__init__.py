"""Configuration audit: the classic settings behind the incidents, flagged before they page you.

Every check is a pure function on a settings frame (:data:`incidentkit.schema.SETTING_COLUMNS`,
as :func:`incidentkit.fetch.health.snapshot` collects it) plus what was *observed* (latency
percentiles, slowest requests, throttle counts): testable without AWS, re-runnable from an
evidence bundle. :func:`run` is the AWS-facing wrapper.

Checks (``check_id`` → related finding id of incidents.md)
----------------------------------------------------------
``tg-health-check-too-tight``        a target is taken out of service after less than
                                     :data:`MIN_SECONDS_TO_UNHEALTHY` seconds of failed checks
                                     (interval × unhealthy threshold) → ``health-check-flapping``
``tg-health-check-timeout-below-p99`` the check's timeout is shorter than the observed p99
                                     response time → ``health-check-flapping``
``deregistration-delay-too-short``   ``deregistration_delay.timeout_seconds`` shorter than the
                                     observed slowest requests (p99.9 / max) → same id
``lambda-no-provisioned-concurrency`` a latency-sensitive function with no provisioned
                                     concurrency → ``cold-start-tail`` / ``cold-start-timeouts``
``dynamodb-no-autoscaling``          a PROVISIONED table or index without autoscaling on read or
                                     write capacity → ``throttling-without-backoff``
``sg-blocks-route53-checkers``       the security groups do not let the Route 53 health
                                     checkers reach the health check's port →
                                     ``healthcheck-blocked-by-change``
``not-checked``                      (info) a check could not run: a setting was not collected

Example
-------
>>> import pandas as pd
>>> from incidentkit.findings import audit
>>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg-web",
...                   "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds",
...                               "UnhealthyThresholdCount", "HealthyThresholdCount"],
...                   "value": ["5", "2", "2", "2"]})
>>> [r.check_id for r in audit.audit_settings(s, observed={"p99_ms": 2400})]
['tg-health-check-timeout-below-p99', 'tg-health-check-too-tight']
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import os
import urllib.request
from importlib import resources as _resources
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..._util.severity import SEVERITIES, severity_rank
from ...errors import ParameterError
from ...schema import resource_type

__all__ = [
    "AuditResult",
    "IpRanges",
    "not_checked",
    "observed_from_frame",
    "worst_first",
    "audit_settings",
    "check_target_group_health_checks",
    "check_deregistration_delay",
    "check_lambda_provisioned_concurrency",
    "check_dynamodb_autoscaling",
    "check_route53_access",
    "load_ip_ranges",
    "format_table",
    "exit_code",
    "CHECKS",
    "SEVERITIES",
    "MIN_SECONDS_TO_UNHEALTHY",
    "DEFAULT_CHECKER_REGIONS",
]

#: check id -> (title, related finding id of incidents.md)
CHECKS: dict[str, tuple[str, str | None]] = {
    "tg-health-check-too-tight": ("Target-group health check marks targets unhealthy too fast", "health-check-flapping"),
    "tg-health-check-timeout-below-p99": ("Health-check timeout below the observed p99 response time", "health-check-flapping"),
    "deregistration-delay-too-short": ("Deregistration delay shorter than the slowest requests", "deregistration-delay-too-short"),
    "lambda-no-provisioned-concurrency": ("Latency-sensitive Lambda function without provisioned concurrency", "cold-start-tail"),
    "dynamodb-no-autoscaling": ("Provisioned DynamoDB capacity without autoscaling", "throttling-without-backoff"),
    "sg-blocks-route53-checkers": ("Security groups block the Route 53 health checkers", "healthcheck-blocked-by-change"),
    "not-checked": ("Audit check could not run", None),
}

#: A target should survive this many seconds of failed checks (a GC pause, a CPU spike, a
#: deploy warm-up) before it is taken out of service. The ALB default is 30 s × 2 = 60 s.
MIN_SECONDS_TO_UNHEALTHY = 15
#: Below this (but at or above :data:`MIN_SECONDS_TO_UNHEALTHY`) a low-severity note.
COMFORTABLE_SECONDS_TO_UNHEALTHY = 30
#: Regions Route 53 checks from when a health check names none.
DEFAULT_CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                           "ap-northeast-1", "sa-east-1")
#: Route 53 calls an endpoint healthy when more than this share of its checkers succeed.
ROUTE53_HEALTHY_SHARE = 0.18
_DEFAULT_HC_PORT = {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}
_NO_ENDPOINT_TYPES = {"CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"}


@dataclasses.dataclass
class AuditResult:
    """One flagged configuration.

    ``evidence`` holds numbers and short strings (the ``findings.json`` evidence shape);
    ``remediation`` holds concrete steps: the setting, the value to set, the command.
    """

    check_id: str
    resource: str
    severity: str
    summary: str
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)
    remediation: list[str] = dataclasses.field(default_factory=list)
    title: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if not self.title:
            self.title = CHECKS.get(self.check_id, (self.check_id, None))[0]

    @property
    def finding_id(self) -> str | None:
        """The finding id of incidents.md this misconfiguration leads to."""
        return CHECKS.get(self.check_id, (None, None))[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``findings.json`` shape plus ``check_id`` and ``resource``)."""
        return {"check_id": self.check_id, "finding_id": self.finding_id, "resource": self.resource, "title": self.title,
                "severity": self.severity, "summary": self.summary, "evidence": dict(self.evidence),
                "remediation": list(self.remediation)}


# --------------------------------------------------------------------------------------------
# inputs: settings and observations
# --------------------------------------------------------------------------------------------


class _Settings:
    """Lookup over a settings frame: ``get(type, id, name)`` → text or None."""

    def __init__(self, settings: Any) -> None:
        df = getattr(settings, "settings", settings)  # a HealthSnapshot works too
        if not isinstance(df, pd.DataFrame):
            raise ParameterError("settings must be a settings DataFrame (schema.SETTING_COLUMNS) or a HealthSnapshot")
        missing = {"resource_type", "resource_id", "setting", "value"} - set(df.columns)
        if missing:
            raise ParameterError(f"settings frame lacks column(s) {sorted(missing)}")
        self.values: dict[tuple[str, str], dict[str, Any]] = {}
        for rtype, rid, name, value in df[["resource_type", "resource_id", "setting", "value"]].itertuples(index=False, name=None):
            v = None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)
            self.values.setdefault((resource_type(str(rtype)), str(rid)), {})[str(name)] = v

    def resources(self, rtype: str) -> list[str]:
        return sorted(rid for (t, rid) in self.values if t == rtype)

    def has(self, rtype: str, rid: str, name: str) -> bool:
        return name in self.values.get((rtype, rid), {})

    def get(self, rtype: str, rid: str, name: str) -> str | None:
        return self.values.get((rtype, rid), {}).get(name)

    def num(self, rtype: str, rid: str, name: str) -> float | None:
        v = self.get(rtype, rid, name)
        try:
            f = float(v) if v is not None else None
        except ValueError:
            return None
        return None if f is None or math.isnan(f) else f


_OBS_ALIASES = {
    "p99_ms": ("p99_ms", "p99_latency_ms", "latency_p99_ms", "p99"),
    "p999_ms": ("p999_ms", "p99.9_ms", "p999_latency_ms", "latency_p999_ms", "p99.9"),
    "max_ms": ("max_ms", "max_latency_ms", "max_duration_ms", "latency_max_ms", "max"),
    "init_p99_ms": ("init_p99_ms", "init_duration_p99_ms", "cold_start_p99_ms"),
    "cold_start_share": ("cold_start_share", "cold_start_rate"),
    "peak_concurrency": ("peak_concurrency", "concurrent_executions_max", "max_concurrency"),
    "throttle_events": ("throttle_events", "throttled_requests"),
    "read_throttle_events": ("read_throttle_events", "ReadThrottleEvents"),
    "write_throttle_events": ("write_throttle_events", "WriteThrottleEvents"),
}


def observed_from_frame(df: pd.DataFrame) -> dict[str, float]:
    """Latency percentiles from a requests/parsed frame (``latency_ms`` or ``duration_ms``)."""
    for col in ("latency_ms", "duration_ms"):
        if col in df.columns:
            s = pd.to_numeric(df[col], errors="coerce").dropna()
            if len(s):
                out = {"p99_ms": float(s.quantile(0.99)), "p999_ms": float(s.quantile(0.999)), "max_ms": float(s.max()),
                       "requests": float(len(s))}
                if "init_duration_ms" in df.columns:
                    init = pd.to_numeric(df["init_duration_ms"], errors="coerce").dropna()
                    if len(init):
                        out["init_p99_ms"] = float(init.quantile(0.99))
                        out["cold_start_share"] = float(len(init) / len(s))
                return out
    raise ParameterError("an observed frame needs a latency_ms or duration_ms column")


def _obs(observed: Any, resource: str | None, key: str) -> float | None:
    """An observed number for ``resource`` (its own entry first, then the global one)."""
    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        observed = observed_from_frame(observed)
    scopes: list[Mapping[str, Any]] = []
    if resource is not None and isinstance(observed.get(resource), (Mapping, pd.DataFrame)):
        own = observed[resource]
        scopes.append(observed_from_frame(own) if isinstance(own, pd.DataFrame) else own)
    scopes.append(observed)
    for scope in scopes:
        for alias in _OBS_ALIASES.get(key, (key,)):
            v = scope.get(alias)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(float(v)):
                return float(v)
    return None


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 10 else f"{seconds:.0f} s"


# --------------------------------------------------------------------------------------------
# target groups
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# deregistration delay
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------


def check_lambda_provisioned_concurrency(settings: Any, observed: Any = None, latency_sensitive: Iterable[str] | None = None) -> list[AuditResult]:
    """Latency-sensitive functions with ``ProvisionedConcurrentExecutions`` 0.

    Without provisioned concurrency, the first request after an idle period or above the warm
    pool pays the cold start (``Init Duration``): the P99-at-quiet-hours and 504-under-burst
    incidents (7 and 2). ``latency_sensitive`` names the functions on a request path (default:
    every function in the settings). Severity ``high`` when observed cold starts are costly
    (``init_p99_ms`` ≥ 1 s), ``low`` when SnapStart is on, else ``medium``.

    Example
    -------
    >>> s = pd.DataFrame({"resource_type": "lambda_function", "resource_id": "api",
    ...     "setting": ["ProvisionedConcurrentExecutions", "ReservedConcurrentExecutions"], "value": ["0", None]})
    >>> [(r.check_id, r.severity) for r in check_lambda_provisioned_concurrency(s, {"init_p99_ms": 2300})]
    [('lambda-no-provisioned-concurrency', 'high')]
    """
    st = _Settings(settings)
    wanted = set(latency_sensitive) if latency_sensitive is not None else None
    out: list[AuditResult] = []
    for fn in st.resources("lambda_function"):
        if wanted is not None and fn not in wanted:
            continue
        if not st.has("lambda_function", fn, "ProvisionedConcurrentExecutions"):
            out.append(not_checked(fn, "provisioned concurrency was not collected (lambda:ListProvisionedConcurrencyConfigs)"))
            continue
        pce = st.num("lambda_function", fn, "ProvisionedConcurrentExecutions") or 0
        if pce > 0:
            continue
        reserved = st.num("lambda_function", fn, "ReservedConcurrentExecutions")
        snapstart = st.get("lambda_function", fn, "SnapStart.ApplyOn") == "PublishedVersions"
        init_p99 = _obs(observed, fn, "init_p99_ms")
        share = _obs(observed, fn, "cold_start_share")
        peak = _obs(observed, fn, "peak_concurrency")
        evidence: dict[str, Any] = {"provisioned_concurrent_executions": 0}
        if reserved is not None:
            evidence["reserved_concurrent_executions"] = reserved
        if init_p99 is not None:
            evidence["observed_init_p99_ms"] = round(init_p99, 1)
        if share is not None:
            evidence["observed_cold_start_share"] = round(share, 4)
        if peak is not None:
            evidence["observed_peak_concurrency"] = peak
        if snapstart:
            evidence["snapstart"] = "PublishedVersions"
        severity = "low" if snapstart else ("high" if init_p99 is not None and init_p99 >= 1000 else "medium")
        if peak is not None:
            n = math.ceil(peak * 1.1)
            n_text = f"{n} (observed peak concurrency {peak:g} + 10 %)"
        else:
            n = None
            n_text = "the function's steady-state concurrency (p95 of ConcurrentExecutions over a busy hour)"
        if reserved is not None and n is not None and n > reserved:
            n, n_text = int(reserved), f"{int(reserved)} (capped by ReservedConcurrentExecutions)"
        cold = f"; observed cold starts add up to {init_p99:.0f} ms (p99 Init Duration)" if init_p99 is not None else ""
        out.append(AuditResult(
            "lambda-no-provisioned-concurrency", fn, severity,
            f"{fn} has no provisioned concurrency: requests after an idle period or above the warm pool wait for a "
            f"cold start{cold}." + (" SnapStart is on, which shortens but does not remove it." if snapstart else ""),
            evidence,
            [
                f"Publish a version, point an alias (e.g. live) at it, and give the alias provisioned concurrency of {n_text}.",
                f"aws lambda put-provisioned-concurrency-config --function-name {fn} --qualifier live "
                f"--provisioned-concurrent-executions {n if n is not None else 'N'}",
                "Follow daily peaks with Application Auto Scaling: target tracking on "
                "LambdaProvisionedConcurrencyUtilization at 0.7 for the alias.",
            ]))
    return out


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# security groups vs Route 53 health checkers
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class IpRanges:
    """Route 53 health-checker ranges: ``(network, region)`` pairs, with the file's date."""

    ipv4: tuple[tuple[ipaddress.IPv4Network, str], ...]
    ipv6: tuple[tuple[ipaddress.IPv6Network, str], ...]
    create_date: str | None
    source: str

    def for_regions(self, regions: Iterable[str], *, v6: bool = False) -> list[tuple[Any, str]]:
        """The ranges checkers in ``regions`` use (plus the GLOBAL ones)."""
        wanted = set(regions) | {"GLOBAL"}
        return [(net, r) for net, r in (self.ipv6 if v6 else self.ipv4) if r in wanted]


def load_ip_ranges(source: Any = None) -> IpRanges:
    """Read the ``ROUTE53_HEALTHCHECKS`` ranges from ``ip-ranges.json`` (a path, an URL, a dict) or the shipped copy.

    Parameters
    ----------
    source:
        ``None`` for the dated copy shipped in ``incidentkit/data`` (see its README), a file
        path, an ``http(s)://`` or ``file://`` URL (e.g. https://ip-ranges.amazonaws.com/ip-ranges.json),
        or the parsed document. Entries of other services are ignored.

    Example
    -------
    >>> r = load_ip_ranges()
    >>> r.create_date, any(str(n) == "15.177.0.0/18" for n, _ in r.ipv4)
    ('2024-09-13-20-53-11', True)
    """
    if isinstance(source, IpRanges):
        return source
    if source is None:
        text = _resources.files("incidentkit").joinpath("data/route53-healthchecks-ip-ranges.json").read_text(encoding="utf-8")
        doc, label = json.loads(text), "incidentkit/data/route53-healthchecks-ip-ranges.json"
    elif isinstance(source, Mapping):
        doc, label = source, "given document"
    else:
        label = str(source)
        try:
            if "://" in label:
                with urllib.request.urlopen(label, timeout=30) as fh:  # noqa: S310 - a URL the user named
                    doc = json.loads(fh.read().decode("utf-8"))
            else:
                with open(os.fspath(source), encoding="utf-8") as fh:
                    doc = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"cannot read ip-ranges from {label}: {exc}; give a path or URL of AWS's ip-ranges.json") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("prefixes"), list):
        raise ParameterError(f"{label} is not an ip-ranges.json document (no 'prefixes' list)")
    v4 = tuple((ipaddress.IPv4Network(p["ip_prefix"]), str(p.get("region"))) for p in doc.get("prefixes") or []
               if p.get("service") == "ROUTE53_HEALTHCHECKS")
    v6 = tuple((ipaddress.IPv6Network(p["ipv6_prefix"]), str(p.get("region"))) for p in doc.get("ipv6_prefixes") or []
               if p.get("service") == "ROUTE53_HEALTHCHECKS")
    if not v4:
        raise ParameterError(f"{label} lists no ROUTE53_HEALTHCHECKS ranges")
    return IpRanges(v4, v6, doc.get("createDate"), label)


def _allowed_networks(perms: Sequence[Mapping[str, Any]], port: int) -> tuple[list[Any], list[Any], list[str]]:
    """CIDRs (v4, v6) the ingress rules allow on TCP ``port``, and prefix lists they reference there."""
    v4: list[Any] = []
    v6: list[Any] = []
    prefix_lists: list[str] = []
    for p in perms:
        proto = str(p.get("IpProtocol", "")).lower()
        if proto not in ("tcp", "6", "-1", "all"):
            continue
        if proto not in ("-1", "all"):
            lo, hi = p.get("FromPort"), p.get("ToPort")
            if lo is None or hi is None or not (int(lo) <= port <= int(hi)):
                continue
        for r in p.get("IpRanges") or []:
            try:
                v4.append(ipaddress.IPv4Network(r.get("CidrIp"), strict=False))
            except (ValueError, TypeError):
                pass
        for r in p.get("Ipv6Ranges") or []:
            try:
                v6.append(ipaddress.IPv6Network(r.get("CidrIpv6"), strict=False))
            except (ValueError, TypeError):
                pass
        prefix_lists.extend(str(r.get("PrefixListId")) for r in p.get("PrefixListIds") or [] if r.get("PrefixListId"))
    return list(ipaddress.collapse_addresses(v4)), list(ipaddress.collapse_addresses(v6)), prefix_lists


def _covered_share(net: Any, allowed: Sequence[Any]) -> float:
    """Share of ``net``'s addresses inside the (collapsed) ``allowed`` networks."""
    total = 0
    for a in allowed:
        if net.subnet_of(a):
            return 1.0
        if a.subnet_of(net):
            total += a.num_addresses
    return total / net.num_addresses


def check_route53_access(settings: Any, ip_ranges: Any = None) -> list[AuditResult]:
    """Do the security groups let the Route 53 health checkers reach each health check's port?

    Judged on the union of the ingress rules of every ``security_group`` in the settings (an
    endpoint's security groups add up) against the ``ROUTE53_HEALTHCHECKS`` ranges of the
    regions the check uses (its ``Regions``, else every default checker region) plus the
    GLOBAL ``15.177.0.0/18``. Route 53 calls an endpoint healthy only when more than 18 % of
    its checkers succeed: blocking (nearly) all of them fails the check although the service
    is fine — incident 3, where a security-group change failed traffic over to an unready
    region. ``high`` when the check will fail, ``medium`` when some regions are blocked,
    ``low`` when rules reference prefix lists the audit cannot resolve.

    Example
    -------
    >>> rules = '[{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]'
    >>> s = pd.DataFrame({"resource_type": ["security_group", "route53_health_check", "route53_health_check"],
    ...     "resource_id": ["sg-1", "hc-1", "hc-1"], "setting": ["IpPermissions", "Type", "Port"],
    ...     "value": [rules, "HTTPS", "443"]})
    >>> [(r.check_id, r.severity) for r in check_route53_access(s)]
    [('sg-blocks-route53-checkers', 'high')]
    """
    st = _Settings(settings)
    groups = st.resources("security_group")
    checks = st.resources("route53_health_check")
    if not groups or not checks:
        return []
    perms: list[Mapping[str, Any]] = []
    missing_rules = []
    for g in groups:
        raw = st.get("security_group", g, "IpPermissions")
        if raw is None:
            missing_rules.append(g)
            continue
        try:
            perms.extend(json.loads(raw))
        except ValueError:
            missing_rules.append(g)
    if missing_rules and len(missing_rules) == len(groups):
        return [not_checked(",".join(groups), "security-group rules were not collected (ec2:DescribeSecurityGroups)")]
    ranges = load_ip_ranges(ip_ranges)
    out: list[AuditResult] = []
    for hc in checks:
        htype = st.get("route53_health_check", hc, "Type") or ""
        if htype in _NO_ENDPOINT_TYPES or (st.get("route53_health_check", hc, "Disabled") or "").lower() == "true":
            continue
        port_num = st.num("route53_health_check", hc, "Port") or _DEFAULT_HC_PORT.get(htype)
        if port_num is None:
            out.append(not_checked(hc, "the health check's port is unknown"))
            continue
        port = int(port_num)
        ip = st.get("route53_health_check", hc, "IPAddress") or ""
        v6 = ":" in ip
        try:
            regions = json.loads(st.get("route53_health_check", hc, "Regions") or "[]") or list(DEFAULT_CHECKER_REGIONS)
        except ValueError:
            regions = list(DEFAULT_CHECKER_REGIONS)
        allowed4, allowed6, plists = _allowed_networks(perms, port)
        allowed = allowed6 if v6 else allowed4
        required = ranges.for_regions(regions, v6=v6)
        coverage = {str(net): _covered_share(net, allowed) for net, _ in required}
        # A checker region uses its own ranges and the GLOBAL 15.177.0.0/18; AWS does not say
        # which addresses a given check comes from, so a region is "blocked" when neither is
        # allowed and "partial" when one of them is.
        global_nets = [n for n, r in required if r == "GLOBAL"]
        global_ok = all(coverage[str(n)] >= 1.0 for n in global_nets)
        global_none = all(coverage[str(n)] == 0.0 for n in global_nets)
        blocked_regions, partial_regions = [], []
        for region in regions:
            own = [n for n, r in required if r == region]
            own_ok = all(coverage[str(n)] >= 1.0 for n in own)
            own_none = all(coverage[str(n)] == 0.0 for n in own)
            if own_ok and global_ok:
                continue
            if (own_none or not own) and global_none:
                blocked_regions.append(region)
            else:
                partial_regions.append(region)
        if not blocked_regions and not partial_regions:
            continue
        blocked_ranges = [n for n, _ in required if coverage[str(n)] < 1.0]
        passing_share = 1 - len(blocked_regions) / len(regions)
        will_fail = passing_share <= ROUTE53_HEALTHY_SHARE
        if plists:
            severity = "low"
        elif will_fail:
            severity = "high"
        else:
            severity = "medium"
        family = "IPv6" if v6 else "IPv4"
        evidence = {
            "health_check_id": hc, "port": port, "security_groups": ",".join(groups), "ip_family": family,
            "checker_regions": len(regions), "blocked_regions": len(blocked_regions),
            "blocked_regions_text": ",".join(blocked_regions), "partly_blocked_regions": len(partial_regions),
            "partly_blocked_regions_text": ",".join(partial_regions), "blocked_ranges": len(blocked_ranges),
            "required_ranges": len(required), "ip_ranges_date": ranges.create_date or "unknown",
        }
        if plists:
            evidence["unresolved_prefix_lists"] = ",".join(sorted(set(plists)))
        if will_fail:
            what = (f"the checkers of {len(blocked_regions)} of {len(regions)} regions cannot reach TCP {port}: "
                    f"Route 53 needs more than 18 % of them to succeed, so health check {hc} fails although the "
                    "service may be healthy, and DNS fails over (incident 3).")
        elif blocked_regions:
            what = (f"the checkers of {len(blocked_regions)} of {len(regions)} regions ({', '.join(blocked_regions)}) cannot "
                    f"reach TCP {port}; health check {hc} still passes on the others, with less margin.")
        else:
            what = (f"only part of the checker ranges may reach TCP {port} ({len(blocked_ranges)} of {len(required)} ranges "
                    f"not allowed, affecting {', '.join(partial_regions)}): checks from the missing addresses fail, and "
                    f"health check {hc} loses margin.")
        if plists:
            what += (f" The rules reference prefix list(s) {', '.join(sorted(set(plists)))} the audit does not resolve: "
                     "if one is com.amazonaws.<region>.route53-healthchecks, the checkers are allowed.")
        sg0 = groups[0]
        missing_cidrs = [str(n) for n in blocked_ranges]
        shown = " ".join(f"{{CidrIp{'v6' if v6 else ''}={c},Description=Route53 health checkers}}" for c in missing_cidrs[:4])
        more = f" (and {len(missing_cidrs) - 4} more of the ranges listed in ip-ranges.json)" if len(missing_cidrs) > 4 else ""
        key = "Ipv6Ranges" if v6 else "IpRanges"
        fix = [
            f"Allow TCP {port} from the Route 53 health-checker {family} ranges ({len(missing_cidrs)} missing, "
            f"ip-ranges.json of {ranges.create_date}) in {sg0}:",
            f"aws ec2 authorize-security-group-ingress --group-id {sg0} --ip-permissions "
            f"'IpProtocol=tcp,FromPort={port},ToPort={port},{key}=[{shown}]'{more}",
            f"Or reference the AWS-managed prefix list com.amazonaws.<region>.{'ipv6.' if v6 else ''}route53-healthchecks "
            "(kept current by Route 53): aws ec2 describe-managed-prefix-lists --filters "
            f"Name=prefix-list-name,Values=com.amazonaws.<region>.{'ipv6.' if v6 else ''}route53-healthchecks",
            "Review security-group changes in the change timeline: a rule removed just before the failover is the cause, "
            "and changes to these groups should go through IaC with a rollback.",
        ]
        out.append(AuditResult("sg-blocks-route53-checkers", f"{','.join(groups)} → {hc}", severity,
                               f"Security group(s) {', '.join(groups)}: {what}", evidence, fix))
    return out


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------


def not_checked(resource: str, why: str) -> AuditResult:
    """An ``info`` result saying ``resource`` could not be checked and why."""
    return AuditResult("not-checked", resource, "info", f"{resource}: {why}", {"reason": why}, [])


def audit_settings(
    settings: Any,
    *,
    observed: Any = None,
    ip_ranges: Any = None,
    latency_sensitive: Iterable[str] | None = None,
) -> list[AuditResult]:
    """Every check on a settings frame (or a :class:`~incidentkit.fetch.health.HealthSnapshot`), worst first.

    Parameters
    ----------
    settings:
        :data:`~incidentkit.schema.SETTING_COLUMNS` rows (``health.snapshot(...).settings``,
        or a frame read back from an evidence bundle).
    observed:
        What was measured, as a dict of numbers (``p99_ms``, ``p999_ms``, ``max_ms``,
        ``init_p99_ms``, ``cold_start_share``, ``peak_concurrency``, ``read_throttle_events``,
        ``write_throttle_events``...), globally or under a resource id
        (``{"arn:...:targetgroup/web/...": {"p99_ms": 850}}``); or a requests/parsed frame
        with ``latency_ms`` (percentiles are computed).
    ip_ranges:
        Route 53 checker ranges (:func:`load_ip_ranges`); default the shipped copy.
    latency_sensitive:
        Functions on a request path (default: every function in the settings).
    """
    results = (
        check_target_group_health_checks(settings, observed)
        + check_deregistration_delay(settings, observed)
        + check_lambda_provisioned_concurrency(settings, observed, latency_sensitive)
        + check_dynamodb_autoscaling(settings, observed)
        + check_route53_access(settings, ip_ranges)
    )
    return worst_first(results)


def worst_first(results: Iterable[AuditResult]) -> list[AuditResult]:
    """The results ordered worst first, then by check id and resource.

    Example
    -------
    >>> [r.severity for r in worst_first([not_checked("table orders", "AccessDenied"), AuditResult("c", "r", "high", "s")])]
    ['high', 'info']
    """
    return sorted(results, key=lambda r: (severity_rank(r.severity), r.check_id, r.resource))


def exit_code(results: Sequence[AuditResult], *, fail_on: str = "high") -> int:
    """``1`` when a result is at least as severe as ``fail_on``, else ``0``.

    Example
    -------
    >>> exit_code([AuditResult("dynamodb-no-autoscaling", "t", "medium", "...")])
    0
    >>> exit_code([AuditResult("dynamodb-no-autoscaling", "t", "medium", "...")], fail_on="medium")
    1
    """
    if fail_on not in SEVERITIES:
        raise ParameterError(f"fail_on must be one of {SEVERITIES}")
    return int(any(severity_rank(r.severity) <= severity_rank(fail_on) for r in results))


def format_table(results: Sequence[AuditResult], *, remediation: bool = True, width: int = 160) -> str:
    """Text report: one line per result (severity, check, resource, summary), then the fix steps.

    Example
    -------
    >>> print(format_table([]))
    no configuration problem found
    """
    if not results:
        return "no configuration problem found"
    lines = []
    for r in results:
        head = f"{r.severity.upper():<8} {r.check_id:<34} {r.resource}"
        lines.append(head)
        lines.extend(_wrap(r.summary, width, "         "))
        if remediation:
            for step in r.remediation:
                lines.extend(_wrap(step, width, "         - ", "           "))
    return "\n".join(lines)


def _wrap(text: str, width: int, first: str, rest: str | None = None) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest if rest is not None else first,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
