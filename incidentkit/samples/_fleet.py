"""Targets behind an Application Load Balancer: health checks, routing, access-log lines, metrics.

A :class:`Fleet` holds the targets of one target group with their lifetimes (registered,
deregistered, gone) and a state timeline computed by :meth:`Fleet.run_health_checks` the way
ELB does it: a check every ``interval`` seconds, failed when the response takes longer
than ``timeout`` (or the connection is refused); ``unhealthy_threshold`` consecutive failures
mark the target unhealthy, ``healthy_threshold`` consecutive successes healthy again.
Requests are routed to healthy targets (all registered ones when none is healthy: ALB fails
open), so flapping checks move load and show in the access logs and metrics.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._core import TARGET_HEALTH_COLUMNS, Builder, hexs, per_minute

__all__ = ["Target", "Fleet", "HealthConfig", "alb_metrics", "access_lines", "trace_ids", "REASONS", "STATES"]

#: Target states (DescribeTargetHealth ``State``), coded by position.
STATES = ("unused", "initial", "healthy", "unhealthy", "draining")

#: ELB target-health reason codes and the descriptions DescribeTargetHealth returns.
REASONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.ResponseCodeMismatch": "Health checks failed with these codes: [503]",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
}


@dataclass
class HealthConfig:
    """A target group's health-check settings (as ModifyTargetGroup names them)."""

    interval: float = 30.0
    timeout: float = 5.0
    healthy: int = 5
    unhealthy: int = 2


@dataclass
class Target:
    """One registered target."""

    id: str  # instance id or IP address
    ip: str
    port: int
    az: str
    registered: float  # epoch seconds
    deregistered: float = float("inf")  # draining starts
    gone: float = float("inf")  # deregistration delay over: connections closed
    initially_healthy: bool = True
    states: list[tuple[float, str, str | None]] = field(default_factory=list)  # (t, state, reason)

    @property
    def addr(self) -> str:
        return f"{self.ip}:{self.port}"

    def state_at(self, t: float) -> str:
        """The state at one time."""
        times = [s[0] for s in self.states]
        k = bisect.bisect_right(times, t) - 1
        return self.states[k][1] if k >= 0 else "unused"


class Fleet:
    """The targets of one target group over the sample's segments."""

    def __init__(self, b: Builder, tg_arn: str, targets: Sequence[Target]):
        self.b = b
        self.tg_arn = tg_arn
        self.targets = list(targets)

    def run_health_checks(
        self,
        config: Callable[[float], HealthConfig],
        response_ms: Callable[[int, np.ndarray], np.ndarray],
        *,
        only: Sequence[int] | None = None,
    ) -> None:
        """Compute the state timeline of every target (or of the targets ``only``).

        ``config(t)`` gives the settings in force at ``t`` (a ModifyTargetGroup changes them);
        ``response_ms(i, times)`` the health endpoint's response time of target ``i`` at those
        times (``inf`` when the connection is refused).
        """
        for i in (only if only is not None else range(len(self.targets))):
            self._check_target(i, config, response_ms)

    def _check_target(self, i: int, config: Callable[[float], HealthConfig], response_ms: Callable[[int, np.ndarray], np.ndarray]) -> None:
        rng = self.b.rng
        tg = self.targets[i]
        tg.states = []
        for seg in self.b.segments:
            start = max(seg.start, tg.registered)
            end = min(seg.end, tg.gone)
            if end <= start:
                continue
            times: list[float] = []
            t = start + float(rng.uniform(0, config(start).interval))
            while t < end:
                times.append(t)
                t += config(t).interval + float(rng.uniform(-0.05, 0.05))
            times_a = np.asarray(times)
            resp = response_ms(i, times_a) if len(times_a) else np.array([])
            fresh = tg.registered >= seg.start
            state = "initial" if (fresh or not tg.initially_healthy) else "healthy"
            tg.states.append((start, state, "Elb.RegistrationInProgress" if state == "initial" else None))
            ok_run = fail_run = 0
            for tt, r in zip(times_a, resp):
                if tt >= tg.deregistered:
                    break
                cfg = config(tt)
                if not (r <= cfg.timeout * 1000.0):
                    fail_run += 1
                    ok_run = 0
                    if state in ("healthy", "initial") and fail_run >= cfg.unhealthy:
                        state = "unhealthy"
                        why = "Target.Timeout" if np.isfinite(r) else "Target.FailedHealthChecks"
                        tg.states.append((tt + cfg.timeout, state, why))
                else:
                    ok_run += 1
                    fail_run = 0
                    if state in ("unhealthy", "initial") and ok_run >= cfg.healthy:
                        state = "healthy"
                        tg.states.append((tt + r / 1000.0, state, None))
            if start <= tg.deregistered < end:
                tg.states.append((tg.deregistered, "draining", "Target.DeregistrationInProgress"))
            if tg.gone < seg.end:
                tg.states.append((tg.gone, "unused", None))

    def first_unhealthy(self, i: int, after: float) -> float | None:
        """When target ``i`` was first marked unhealthy at or after ``after``."""
        for t, state, _ in self.targets[i].states:
            if state == "unhealthy" and t >= after:
                return t
        return None

    def states_at(self, times: np.ndarray) -> np.ndarray:
        """State codes (:data:`STATES` index) of every target at ``times``: shape (targets, times)."""
        times = np.asarray(times, dtype=float)
        out = np.zeros((len(self.targets), len(times)), dtype=np.int8)
        for i, tg in enumerate(self.targets):
            if not tg.states:
                continue
            ts = np.array([s[0] for s in tg.states])
            codes = np.array([STATES.index(s[1]) for s in tg.states], dtype=np.int8)
            k = np.searchsorted(ts, times, side="right") - 1
            out[i] = np.where(k >= 0, codes[np.clip(k, 0, None)], 0)
        return out

    def route(self, t: np.ndarray) -> np.ndarray:
        """A target index for each request time (-1 when no target can take it: 503).

        New requests go to healthy targets; when none is healthy the load balancer fails
        open to every registered target that is not draining.
        """
        t = np.asarray(t, dtype=float)
        st = self.states_at(t)
        healthy = st == STATES.index("healthy")
        fallback = (st == STATES.index("unhealthy")) | (st == STATES.index("initial"))
        ok = np.where(healthy.any(axis=0), healthy, fallback)
        count = ok.sum(axis=0)
        pick_k = np.floor(self.b.rng.random(len(t)) * np.maximum(count, 1)).astype(int)
        cum = np.cumsum(ok, axis=0)
        idx = np.argmax(cum > pick_k, axis=0)
        return np.where(count > 0, idx, -1).astype(np.int64)

    def health_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per minute of the grid: maximum unhealthy and minimum healthy target counts (sampled every 5 s)."""
        g = self.b.grid
        samples = (g[:, None] + np.arange(0, 60, 5.0)[None, :]).ravel()
        st = self.states_at(samples)
        un = (st == STATES.index("unhealthy")).sum(axis=0).reshape(len(g), -1)
        he = (st == STATES.index("healthy")).sum(axis=0).reshape(len(g), -1)
        return un.max(axis=1).astype(float), he.min(axis=1).astype(float)

    def health_rows(self) -> list[dict[str, Any]]:
        """``health["target_health"]`` rows: every state change of every target."""
        rows = []
        for tg in self.targets:
            for t, state, reason in tg.states:
                rows.append({
                    "timestamp": t, "target_group_arn": self.tg_arn, "target_id": tg.id, "port": tg.port,
                    "availability_zone": tg.az, "state": state, "reason": reason,
                    "description": REASONS.get(reason) if reason else None,
                })
        return rows

    def add_health_frame(self) -> None:
        self.b.health_frame("target_health", TARGET_HEALTH_COLUMNS, [r for r in self.health_rows() if self.b.in_segments(np.array([r["timestamp"]]))[0]])


def trace_ids(b: Builder, t: np.ndarray) -> list[str]:
    """``Root=1-<epoch hex>-<24 hex>`` (the X-Amzn-Trace-Id the ALB adds)."""
    tails = hexs(b.rng, len(t), 24)
    return [f"Root=1-{int(x):08x}-{tail}" for x, tail in zip(t, tails)]


def alb_metrics(
    b: Builder,
    lb_arn: str,
    tg_arn: str,
    fleet: Fleet | None,
    *,
    t_end: np.ndarray,
    elb_status: np.ndarray,
    target_status: np.ndarray,
    target_s: np.ndarray,
    conn_error: np.ndarray | None = None,
) -> None:
    """AWS/ApplicationELB metrics of the load balancer and its target group, from the access-log truth.

    ``target_status`` is the target's code (0 when none), ``target_s`` the target processing
    time in seconds (negative when none). HTTPCode counts are only published when non-zero.
    """
    g = b.grid
    reached = target_s >= 0
    count = per_minute(g, t_end)
    has = count > 0
    tr = target_s[reached]
    te = t_end[reached]
    ce = conn_error if conn_error is not None else np.zeros(len(t_end), dtype=bool)
    lb_series = {
        ("RequestCount", "Sum"): np.where(has, count, np.nan),
        ("HTTPCode_ELB_5XX_Count", "Sum"): per_minute(g, t_end, ((elb_status >= 500) & ~reached).astype(float), "sum"),
        ("HTTPCode_ELB_502_Count", "Sum"): per_minute(g, t_end, ((elb_status == 502) & ~reached).astype(float), "sum"),
        ("HTTPCode_ELB_503_Count", "Sum"): per_minute(g, t_end, ((elb_status == 503) & ~reached).astype(float), "sum"),
        ("HTTPCode_ELB_504_Count", "Sum"): per_minute(g, t_end, ((elb_status == 504) & ~reached).astype(float), "sum"),
        ("HTTPCode_Target_5XX_Count", "Sum"): per_minute(g, t_end, (target_status >= 500).astype(float), "sum"),
        ("TargetResponseTime", "p50"): per_minute(g, te, tr, "p50"),
        ("TargetResponseTime", "p90"): per_minute(g, te, tr, "p90"),
        ("TargetResponseTime", "p99"): per_minute(g, te, tr, "p99"),
        ("TargetConnectionErrorCount", "Sum"): per_minute(g, t_end, ce.astype(float), "sum"),
    }
    b.metric_series(M.alb(lb_arn), lb_series, drop_zero={"HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count", "HTTPCode_ELB_503_Count",
                                                        "HTTPCode_ELB_504_Count", "HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount"})
    tg_series = {
        ("RequestCount", "Sum"): np.where(has, count, np.nan),
        ("HTTPCode_Target_5XX_Count", "Sum"): lb_series[("HTTPCode_Target_5XX_Count", "Sum")],
        ("TargetResponseTime", "p50"): lb_series[("TargetResponseTime", "p50")],
        ("TargetResponseTime", "p99"): lb_series[("TargetResponseTime", "p99")],
        ("TargetResponseTime", "Maximum"): per_minute(g, te, tr, "max"),
        ("TargetConnectionErrorCount", "Sum"): lb_series[("TargetConnectionErrorCount", "Sum")],
    }
    if fleet is not None:
        unhealthy, healthy = fleet.health_counts()
        tg_series[("UnHealthyHostCount", "Maximum")] = unhealthy
        tg_series[("HealthyHostCount", "Minimum")] = healthy
        tg_series[("RequestCountPerTarget", "Sum")] = np.where(has, count / np.maximum(healthy, 1), np.nan)
    b.metric_series(M.target_group(tg_arn, lb_arn), tg_series, drop_zero={"HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount"})


def access_lines(
    b: Builder,
    *,
    t_start: np.ndarray,
    t_end: np.ndarray,
    lb_suffix: str,
    tg_arn: str,
    fleet: Fleet | None,
    target_idx: np.ndarray,
    client: Sequence[str],
    elb_status: np.ndarray,
    target_status: np.ndarray,
    target_s: np.ndarray,
    method: Sequence[str],
    url: Sequence[str],
    user_agent: Sequence[str],
    received: np.ndarray,
    sent: np.ndarray,
    domain: str,
    cert_arn: str,
    conn_trace: bool = False,
    rule_priority: Sequence[int] | int = 1,
) -> list[str]:
    """ALB access-log lines for simulated requests (``target_idx`` -1 = no target)."""
    rng = b.rng
    n = len(t_start)
    addrs = np.array([tg.addr for tg in fleet.targets] if fleet else ["-"], dtype=object)
    target = np.where(target_idx >= 0, addrs[np.clip(target_idx, 0, len(addrs) - 1)], "-")
    tstat = np.where(target_status > 0, target_status.astype(int).astype(str), "-")
    req_s = np.round(rng.uniform(0.0, 0.0015, n), 3)
    resp_s = np.where(target_s >= 0, np.round(rng.uniform(0.0, 0.0012, n), 3), -1.0)
    cid = [f"TID_{x}" for x in hexs(rng, n, 32)] if conn_trace else None
    return F.alb_lines(
        t_end=t_end, t_start=t_start, lb=lb_suffix, client=client, target=target, req_s=req_s, target_s=target_s, resp_s=resp_s,
        elb_status=elb_status, target_status=tstat, received=received, sent=sent, method=method, url=url, user_agent=user_agent,
        tg_arn=tg_arn, trace=trace_ids(b, t_start), domain=domain, cert_arn=cert_arn, rule_priority=rule_priority,
        conn_trace_id=cid,
    )
