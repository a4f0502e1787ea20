"""``cold-start-timeouts`` (incidents.md #2): cold starts under a burst time out at the gateway.

The cause: a burst lands on new Lambda environments whose initialisation, plus the request, runs
past API Gateway's 29 s integration timeout (or the function's), so clients get 504/5XX. The
evidence read: requests (status, timeouts, cold starts), the baseline's requests, API Gateway and
Lambda metrics (5XXError, IntegrationLatency, ConcurrentExecutions, Throttles, Duration), the
function's settings, the change timeline and, when a load balancer's access log was read (a
function behind an ALB), its per-request target fields (the 502/504s no target answered and the
load balancer's ``error_reason``). It fires when failures are mostly timeouts, above the
baseline's rate, with cold starts concentrated in them; or, from metrics alone, on gateway errors
at the timeout cap with a concurrency surge, limit or throttles.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Union

import pandas as pd

from ...analyses._common import as_utc, fmt_ms, pct, severity_for_share, two_proportion_z
from ...analyses.change_words import blameless_actor, when_text
from ...analyses.impact import counted, counting_tier
from ...analyses.lambda_capacity import concurrency, failing, function_name, gateway_metrics, in_window, setting_value
from ...analyses.latency import APIGW_INTEGRATION_TIMEOUT_MS, CAP_FRACTION
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.request_timing import cold_starts
from ...analyses.targets import target_evidence, target_sentence
from ..model import Finding, Inputs
from ._common import Score, Verdict, cap_confidence, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "FromRequests", "FromMetrics", "COLD_START_TIMEOUTS_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "cold-start-timeouts"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "baseline", "requests", "baseline_requests", "metrics", "changes", "settings", "resources",
                          "logs")

#: Requests needed to judge from requests (and baseline requests to compare with); failures needed among them.
MIN_REQUESTS, MIN_FAILURES = 50, 5
#: At least this share of the failures must be timeouts: other failures that hit fresh environments are not it.
MIN_TIMEOUT_SHARE = 0.5
#: The failure rate must be above the baseline's (one-sided z-test at this level — a statistical choice) and at
#: least this multiple of it ...
MAX_P, MIN_RATE_RATIO = 0.01, 2.0
#: ... and without a baseline at least 1 % (the kit's threshold for a medium share of requests failing).
MIN_FAILURE_RATE = 0.01
#: Cold-start flags on this many requests, and on at least this share of the failing ones, make the comparison per
#: request (else per minute, from every tier).
MIN_KNOWN_COLD, MIN_KNOWN_COLD_FAILING_SHARE = 20, 0.5
#: Cold starts concentrated in the failures: at least this many, this lift over the rest (and p < :data:`MAX_P`).
MIN_COLD_FAILING, MIN_COLD_LIFT = 3, 2.0
#: Concurrency this close to its limit, this multiple of its baseline median: the burst.
NEAR_LIMIT, SURGE_FACTOR = 0.8, 2.0
#: A minute "stands out": at least 2 failures and a failure rate of max(1 %, 3x the reference rate).
MIN_MINUTE_FAILURES, MINUTE_RATE_FLOOR, MINUTE_RATE_FACTOR = 2, 0.01, 3.0
#: Traffic in the failing minutes this many times the typical rate is worth saying in the summary ...
BURST_WORTH_SAYING = 1.5
#: ... and this many times is a burst (as :data:`SURGE_FACTOR` is for concurrency).
BURST_FACTOR = 2.0
#: Confidence from requests: a base; up to 0.25 (per request) or 0.15 (per minute) for the cold-start lift
#: (linear from 1x to 5x, capped at 10x); a per-minute comparison is weaker evidence than a per-request one ...
BASE_CONFIDENCE, REQUEST_LIFT_WEIGHT, MINUTE_LIFT_WEIGHT, LIFT_SPAN, LIFT_CAP = 0.45, 0.25, 0.15, 4.0, 10.0
#: ... up to 0.1 for the timeout share (linear from 50 % to 90 % of the failures) ...
TIMEOUT_SHARE_WEIGHT, TIMEOUT_SHARE_SPAN = 0.1, 0.4
#: ... and 0.05 each for a traffic burst or concurrency surge, concurrency at its limit or throttles, latency at the cap.
BURST_BONUS, LIMIT_BONUS, AT_CAP_BONUS = 0.05, 0.05, 0.05
#: From metrics only, cold starts are inferred: a base, 0.1 at the limit, 0.05 for a surge and for throttles, at most 0.6.
METRICS_BASE, METRICS_LIMIT_BONUS, METRICS_SURGE_BONUS, METRICS_THROTTLE_BONUS, METRICS_MAX = 0.4, 0.1, 0.05, 0.05, 0.6


#: The changes that can explain ``cold-start-timeouts``, most direct first (see :mod:`.related`).
COLD_START_TIMEOUTS_CHANGES = ChangeSpec("cold-start-timeouts", {
    "provisioned-concurrency": "provisioned concurrency removed or lowered: the burst lands on new environments",
    "reserved-concurrency": "reserved concurrency lowered: the burst reaches the limit sooner",
    "function-config": "a timeout or memory change alters how long a cold start may take",
    "code": "a deploy replaces every environment, and new code may initialise slower",
    "alias": "an alias moved to another version, whose environments start cold",
    "api-config": "an API Gateway stage or integration change alters its timeout",
})


def _timeout_changes(inputs: Any, req: pd.DataFrame | None, onset: Any) -> list[dict[str, Any]]:
    """The changes that can explain the timeouts: on the function the requests ran on, or the API."""
    resources = getattr(inputs, "resources", None) or {}
    function = function_name(req) if req is not None else None
    targets = targets_from(function, resources.get("function_name"), kind="function")
    targets += targets_from(resources.get("api_id"), resources.get("api_name"), kind="api")
    return related_changes(getattr(inputs, "changes", None), COLD_START_TIMEOUTS_CHANGES, targets,
                           onset=onset, window=getattr(inputs, "window", None), slack="1min")


class _ConcurrencySignals:
    """What the Lambda concurrency (``self.conc``, :func:`~incidentkit.analyses.lambda_capacity.concurrency`) says of a burst."""

    conc: dict[str, Any]

    @property
    def near_limit(self) -> bool:
        return self.conc.get("concurrency_utilisation", 0.0) >= NEAR_LIMIT

    @property
    def surge(self) -> bool:
        c = self.conc
        return c.get("concurrency_baseline_median", 0) > 0 and c.get("concurrency_peak", 0) >= SURGE_FACTOR * c["concurrency_baseline_median"]

    @property
    def throttled(self) -> bool:
        return self.conc.get("lambda_throttles", 0) > 0


@dataclass
class FromRequests(_ConcurrencySignals):
    """Failing requests, their timeouts, cold starts among them, the failing minutes and the concurrency behind them."""

    rows: pd.DataFrame
    n: int
    n_fail: int
    fail_rate: float
    timeout_share: float
    base_rate: float | None
    level: str | None
    cold_fail_rate: float | None
    cold_rest_rate: float | None
    lift: float | None
    p: float | None
    conc: dict[str, Any]
    gw: dict[str, Any]
    fail_lat: pd.Series
    burst_rate: float
    duration: pd.Timedelta | None = None
    burst_ratio: float | None = None
    onset_time: Any = None
    burst_end: Any = None
    failing_minutes: int = 0
    related: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, Any] = field(default_factory=dict)

    @property
    def at_cap(self) -> bool:
        return bool(self.gw.get("integration_latency_points_at_cap", 0) > 0
                    or (len(self.fail_lat) and self.fail_lat.median() >= CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS))


@dataclass
class FromMetrics(_ConcurrencySignals):
    """Gateway and Lambda failure metrics at the timeout cap, with the concurrency that points at cold starts."""

    rate: float
    source: str
    at_cap: bool
    near_fn_timeout: bool
    timeout_s: float | None
    conc: dict[str, Any]
    gw: dict[str, Any]
    related: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, Any] = field(default_factory=dict)


Measures = Union[FromRequests, FromMetrics]


def measure(inputs: Inputs) -> Measures | None:
    """From requests when there are enough with failures, else from metrics; None when the evidence does not hold.

    With a load balancer's access log (a function behind an ALB), its failed requests
    (:func:`~incidentkit.analyses.targets.target_evidence`) go with the measures.
    """
    req = in_window(getattr(inputs, "requests", None), getattr(inputs, "window", None))
    gw = gateway_metrics(inputs)
    if req is not None and len(req) >= MIN_REQUESTS and any(c in req.columns for c in ("status", "timed_out", "latency_ms", "duration_ms")):
        fail, _, _ = failing(req)
        if int(fail.sum()) >= MIN_FAILURES:
            return _with_targets(inputs, _measure_requests(inputs, req, gw))
    return _with_targets(inputs, _measure_metrics(inputs, req, gw))


def _with_targets(inputs: Inputs, m: Measures | None) -> Measures | None:
    """``m`` with the access log's per-request target evidence (of the investigation's target group, when named)."""
    if m is not None:
        m.targets = target_evidence(getattr(inputs, "logs", None), getattr(inputs, "window", None),
                                    (getattr(inputs, "resources", None) or {}).get("target_group_arn"))
    return m


def _cold_concentration(req: pd.DataFrame, rows: pd.DataFrame, fail: pd.Series, t: pd.Series | None) -> tuple[str | None, tuple[int, int, int, int]]:
    """Where cold starts are known (per request, else per minute from every tier) and the 2x2 counts: cold among failing, failing, cold among the rest, the rest."""
    cold, known = cold_starts(req)
    if known.sum() >= MIN_KNOWN_COLD and known[fail].mean() >= MIN_KNOWN_COLD_FAILING_SHARE:
        return "request", (int((cold & fail & known).sum()), int((fail & known).sum()),
                           int((cold & ~fail & known).sum()), int((~fail & known).sum()))
    if t is not None and "timestamp" in rows.columns and int(cold_starts(rows)[1].sum()) >= MIN_KNOWN_COLD:
        cold, known = cold_starts(rows)  # cold starts of every tier, in the minutes where the counted requests failed
        in_bad = as_utc(rows["timestamp"]).dt.floor("1min").isin(set(t.dt.floor("1min")[fail]))
        return "minute", (int((cold & known & in_bad).sum()), int((known & in_bad).sum()),
                          int((cold & known & ~in_bad).sum()), int((known & ~in_bad).sum()))
    return None, (0, 0, 0, 0)


def _failing_minutes(m: FromRequests, t: pd.Series, fail: pd.Series, base: pd.DataFrame | None) -> None:
    """The failing period (minutes whose failure rate stands out) and the traffic burst (their rate vs typical), into ``m``."""
    minute = t.dt.floor("1min")
    per_min = pd.DataFrame({"m": minute, "f": fail}).groupby("m")["f"].agg(["size", "sum"])
    # Minutes whose failure rate stands out from the normal trickle (baseline rate, else the median minute).
    ref = m.base_rate if m.base_rate is not None else float((per_min["sum"] / per_min["size"]).median())
    elevated = (per_min["sum"] >= MIN_MINUTE_FAILURES) & (per_min["sum"] / per_min["size"] >= max(MINUTE_RATE_FLOOR, MINUTE_RATE_FACTOR * ref))
    bad = per_min[elevated] if elevated.any() else per_min[per_min["sum"] > 0]
    m.duration, m.failing_minutes = pd.Timedelta(minutes=len(bad)), len(bad)
    m.burst_rate = float(bad["sum"].sum() / bad["size"].sum())
    typical = float(per_min["size"].median())
    if base is not None and "timestamp" in base.columns:
        typical = float(as_utc(base["timestamp"]).dt.floor("1min").value_counts().median())
    m.burst_ratio = float(bad["size"].mean() / typical) if typical > 0 else None
    in_bad = minute.isin(bad.index)
    m.onset_time, m.burst_end = t[fail & in_bad].min().floor("s"), t[fail & in_bad].max().floor("s")


def _measure_requests(inputs: Inputs, req: pd.DataFrame, gw: dict[str, Any]) -> FromRequests | None:
    timeout_s, _ = setting_value(getattr(inputs, "settings", None), "timeout")
    rows, req = req, counted(req)  # every tier (cold starts are known on invocations); requests counted once
    fail, timeout_like, lat = failing(req, timeout_s)
    n, n_fail = len(req), int(fail.sum())
    fail_rate = n_fail / n
    timeout_share = float(timeout_like[fail].mean())
    if timeout_share < MIN_TIMEOUT_SHARE:
        return None
    base = counted(in_window(getattr(inputs, "baseline_requests", None), getattr(inputs, "baseline", None)), tier=counting_tier(req))
    base_rate = None
    if base is not None and len(base) >= MIN_REQUESTS:
        bfail, _, _ = failing(base)
        base_rate = float(bfail.mean())
        _, pb = two_proportion_z(n_fail, n, int(bfail.sum()), len(base), alternative="greater")
        if pb >= MAX_P or fail_rate < MIN_RATE_RATIO * base_rate:
            return None
    elif fail_rate < MIN_FAILURE_RATE:
        return None
    t = as_utc(req["timestamp"]) if "timestamp" in req.columns else None
    level, (a, m_, b, k) = _cold_concentration(req, rows, fail, t)
    cold_fail_rate = cold_rest_rate = lift = p = None
    if level is not None:
        if m_ == 0 or a < MIN_COLD_FAILING:
            return None
        cold_fail_rate = a / m_
        cold_rest_rate = b / k if k else 0.0
        lift = cold_fail_rate / cold_rest_rate if cold_rest_rate > 0 else math.inf
        _, p = two_proportion_z(a, m_, b, k, alternative="greater") if k else (0.0, 0.0)
        if p >= MAX_P or lift < MIN_COLD_LIFT:
            return None
    m = FromRequests(rows=rows, n=n, n_fail=n_fail, fail_rate=fail_rate, timeout_share=timeout_share, base_rate=base_rate,
                     level=level, cold_fail_rate=cold_fail_rate, cold_rest_rate=cold_rest_rate, lift=lift, p=p,
                     conc=concurrency(inputs, rows), gw=gw, fail_lat=lat[fail].dropna(), burst_rate=fail_rate)
    if level is None and not (m.near_limit or m.surge or m.throttled):
        return None
    if t is not None and t.notna().any():
        _failing_minutes(m, t, fail, base)
    m.related = _timeout_changes(inputs, rows, m.onset_time)  # every tier: the function name is on the invocations
    return m


def _measure_metrics(inputs: Inputs, req: pd.DataFrame | None, gw: dict[str, Any]) -> FromMetrics | None:
    if not gw:
        return None
    rate = gw.get("apigw_5xx_rate")
    source = "API Gateway 5XXError / Count"
    if rate is None and "lambda_error_rate" in gw:
        rate, source = gw["lambda_error_rate"], "Lambda Errors / Invocations"
    if rate is None or rate < MIN_FAILURE_RATE:
        return None
    if "baseline_apigw_requests" in gw and gw["baseline_apigw_requests"] > 0:
        _, pb = two_proportion_z(gw["apigw_5xx"], gw["apigw_requests"], gw["baseline_apigw_5xx"],
                                 gw["baseline_apigw_requests"], alternative="greater")
        if pb >= MAX_P:
            return None
    timeout_s, _ = setting_value(getattr(inputs, "settings", None), "timeout")
    at_cap = gw.get("integration_latency_points_at_cap", 0) > 0
    near_fn_timeout = timeout_s is not None and gw.get("lambda_duration_max_ms", 0) >= CAP_FRACTION * timeout_s * 1000
    if not (at_cap or near_fn_timeout):
        return None
    m = FromMetrics(rate=rate, source=source, at_cap=at_cap, near_fn_timeout=near_fn_timeout, timeout_s=timeout_s,
                    conc=concurrency(inputs, None), gw=gw)
    if not (m.near_limit or m.surge or m.throttled):
        return None
    m.related = _timeout_changes(inputs, req, None)
    return m


def judge(m: Measures) -> Verdict:
    """The kit's scale on the failure rate of the failing minutes (lower when under 5 minutes)."""
    if isinstance(m, FromMetrics):
        severity = severity_for_share(m.rate)
        score = Score(METRICS_BASE, "gateway errors at the timeout cap, cold starts inferred from concurrency")
        score.add(METRICS_LIMIT_BONUS, "concurrency at its limit", when=m.near_limit)
        score.add(METRICS_SURGE_BONUS, "a concurrency surge", when=m.surge)
        score.add(METRICS_THROTTLE_BONUS, "Lambda throttles", when=m.throttled)
        return score.verdict(severity, min(cap_confidence(score.value, severity), METRICS_MAX))
    severity = severity_for_share(m.burst_rate, duration=m.duration)
    score = Score(BASE_CONFIDENCE, "failures are mostly timeouts, above the baseline's rate")
    if m.level is not None:
        weight = REQUEST_LIFT_WEIGHT if m.level == "request" else MINUTE_LIFT_WEIGHT
        score.add(weight * min(1.0, (min(m.lift, LIFT_CAP) - 1.0) / LIFT_SPAN), f"cold starts concentrated in the failures (per {m.level})")
    score.add(TIMEOUT_SHARE_WEIGHT * min(1.0, (m.timeout_share - MIN_TIMEOUT_SHARE) / TIMEOUT_SHARE_SPAN), "share of the failures that are timeouts")
    score.add(BURST_BONUS, "a traffic burst or concurrency surge", when=(m.burst_ratio or 0) >= BURST_FACTOR or m.surge)
    score.add(LIMIT_BONUS, "concurrency at its limit or throttled", when=m.near_limit or m.throttled)
    score.add(AT_CAP_BONUS, "latency at the gateway's cap", when=m.at_cap)
    return score.verdict(severity, cap_confidence(score.value, severity))


def _request_evidence(m: FromRequests) -> dict[str, Any]:
    evidence: dict[str, Any] = {"requests": m.n, "failing_requests": m.n_fail, "failure_rate": m.fail_rate}
    if m.duration is not None:
        evidence.update({"failing_minutes": m.failing_minutes, "burst_start": m.onset_time, "burst_end": m.burst_end,
                         "failure_rate_in_failing_minutes": m.burst_rate})
        if m.burst_ratio is not None:
            evidence["traffic_vs_typical"] = m.burst_ratio
    if m.base_rate is not None:
        evidence["baseline_failure_rate"] = m.base_rate
    evidence["timeout_share_of_failures"] = m.timeout_share
    if m.level is not None:
        evidence.update({"cold_start_evidence": m.level, "cold_start_rate_failing": m.cold_fail_rate,
                         "cold_start_rate_rest": m.cold_rest_rate, "cold_start_lift": m.lift, "cold_start_p_value": m.p})
    rows = m.rows
    init = pd.to_numeric(rows["init_duration_ms"], errors="coerce").dropna() if "init_duration_ms" in rows.columns else pd.Series(dtype="float64")
    if len(init):
        evidence["init_p50_ms"], evidence["init_max_ms"] = float(init.median()), float(init.max())
    if len(m.fail_lat):
        evidence["failing_latency_p50_ms"] = float(m.fail_lat.median())
    evidence.update({k: v for k, v in m.conc.items() if not k.endswith("_source")})
    evidence.update(m.gw)
    if m.at_cap and "integration_latency_max_ms" in m.gw:
        evidence["integration_timeout_ms"] = APIGW_INTEGRATION_TIMEOUT_MS
    return evidence


def _request_summary(m: FromRequests) -> str:
    summary = f"{m.n_fail:,} of {m.n:,} requests failed ({pct(m.fail_rate)}"
    if m.duration is not None:
        summary += (f"; {pct(m.burst_rate)} in the {m.failing_minutes} minutes from {m.onset_time.strftime('%H:%M')} UTC "
                    "where failures stood out)")
    else:
        summary += ")"
    summary += f", {pct(m.timeout_share, 0)} of them timeouts or gateway 504s."
    if m.level == "request":
        summary += (f" {pct(m.cold_fail_rate, 0)} of the failing requests were cold starts against {pct(m.cold_rest_rate)} "
                    f"of the others (lift {min(m.lift, 999):.1f}).")
    elif m.level == "minute":
        summary += (f" In the minutes with failures {pct(m.cold_fail_rate)} of requests were cold starts against "
                    f"{pct(m.cold_rest_rate)} in the other minutes.")
    if m.burst_ratio is not None and m.burst_ratio >= BURST_WORTH_SAYING:
        summary += f" Traffic in those minutes ran {m.burst_ratio:.1f}x its typical rate."
    conc = m.conc
    if "concurrency_utilisation" in conc:
        summary += (f" Lambda concurrency peaked at {conc['concurrency_peak']:.0f} of a limit of {conc['concurrency_limit']:.0f} "
                    f"({pct(conc['concurrency_utilisation'], 0)}).")
    if m.at_cap and "integration_latency_max_ms" in m.gw:
        summary += f" API Gateway IntegrationLatency reached {fmt_ms(m.gw['integration_latency_max_ms'])}, its 29 s cap."
    return summary


def _metric_summary(m: FromMetrics) -> str:
    conc, gw = m.conc, m.gw
    summary = f"{pct(m.rate)} of requests failed ({m.source})"
    if m.at_cap:
        summary += f" while IntegrationLatency reached {fmt_ms(gw['integration_latency_max_ms'])}, API Gateway's 29 s cap"
    elif m.near_fn_timeout:
        summary += f" while Lambda Duration reached {fmt_ms(gw['lambda_duration_max_ms'])} of a {m.timeout_s:.0f} s timeout"
    summary += "."
    if m.surge:
        summary += (f" Lambda concurrency rose to {conc['concurrency_peak']:.0f} from a baseline median of "
                    f"{conc['concurrency_baseline_median']:.0f}: new environments, i.e. cold starts.")
    if m.near_limit:
        summary += f" It reached {pct(conc['concurrency_utilisation'], 0)} of its limit ({conc['concurrency_limit']:.0f})."
    if m.throttled:
        summary += f" Lambda throttled {conc['lambda_throttles']:.0f} invocations."
    return summary + " Request-level logs (REPORT lines with Init Duration) would confirm the cold starts."


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the failures and their timeouts, the cold starts among them, the burst, the change, the fix."""
    cause = m.related[0] if m.related else None
    if isinstance(m, FromMetrics):
        evidence = {"failure_rate": m.rate, "failure_rate_source": m.source, **m.gw,
                    **{k: v for k, v in m.conc.items() if not k.endswith("_source")}}
        if m.at_cap:
            evidence["integration_timeout_ms"] = APIGW_INTEGRATION_TIMEOUT_MS
        summary, rows, remediation_evidence = _metric_summary(m), in_window(getattr(inputs, "requests", None), getattr(inputs, "window", None)), {}
        title, onset = f"Burst of new Lambda environments with gateway timeouts: {pct(m.rate)} of requests failing", None
    else:
        evidence = _request_evidence(m)
        summary, rows, remediation_evidence = _request_summary(m), m.rows, evidence
        title = f"Cold starts under a traffic burst time out: {pct(m.burst_rate)} of requests failing"
        onset = None if m.onset_time is None or pd.isna(m.onset_time) else m.onset_time.isoformat().replace("+00:00", "Z")
    evidence.update(m.targets)
    summary += (" " + target_sentence(m.targets)) if m.targets else ""
    evidence.update(related_evidence(cause))
    if cause is not None:
        summary += " " + sentence(cause, reference=window_start(inputs), onset_known=isinstance(m, FromRequests))
    return Finding(
        id=ID,
        title=title,
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=_timeout_remediation(inputs, rows, m.conc, remediation_evidence, cause),
        confidence=verdict.confidence,
        related_changes=m.related,
        onset=onset,
    )


def _timeout_remediation(inputs: Any, req: pd.DataFrame | None, conc: dict[str, Any], evidence: dict[str, Any],
                         cause: dict[str, Any] | None = None) -> list[str]:
    function = function_name(req) if req is not None else None
    target = f"`{function}`" if function else "the function"
    steps = []
    if cause is not None and cause["kind"] in ("provisioned-concurrency", "reserved-concurrency"):
        setting = "provisioned" if cause["kind"] == "provisioned-concurrency" else "reserved"
        steps.append(
            f"Undo the {setting}-concurrency change on `{cause['target']}` "
            f"{when_text(cause['timestamp'], window_start(inputs))} ({cause['api']} by {blameless_actor(cause['actor'])}), "
            "then size it for the burst as below."
        )
    elif cause is not None:
        steps.append(f"Review {sentence(cause, reference=window_start(inputs))[:-1]}: roll it back if the timeouts began with it.")
    peak = conc.get("concurrency_peak")
    if peak is not None:
        steps.append(
            f"Provision concurrency for the burst on {target}: about {int(math.ceil(peak))} environment"
            f"{'s' if math.ceil(peak) != 1 else ''} (peak concurrency "
            f"observed, {conc.get('concurrency_source', 'metrics')}), scheduled ahead of known peaks or driven by Application "
            "Auto Scaling on ProvisionedConcurrencyUtilization (target ~0.7)."
        )
    else:
        steps.append(
            f"Provision concurrency on {target} for the burst, sized from the ConcurrentExecutions Maximum seen at peak, "
            "scheduled ahead of known peaks or with Application Auto Scaling on ProvisionedConcurrencyUtilization."
        )
    if conc.get("concurrency_utilisation", 0.0) >= NEAR_LIMIT:
        steps.append(
            f"Concurrency reached {pct(conc['concurrency_utilisation'], 0)} of its limit ({conc['concurrency_limit']:.0f}, "
            f"{conc.get('concurrency_limit_source', 'limit')}): raise the reserved concurrency or request an account "
            "concurrency quota increase (Service Quotas, 'Concurrent executions') with headroom above the peak."
        )
    timeout_s, _ = setting_value(getattr(inputs, "settings", None), "timeout")
    if timeout_s is not None and timeout_s * 1000 >= APIGW_INTEGRATION_TIMEOUT_MS:
        steps.append(
            f"The function timeout ({timeout_s:.0f} s) is at or above API Gateway's 29 s integration timeout: the gateway "
            "returns 504 while the function keeps running and holds its concurrency. Set the function timeout below the "
            "gateway's (e.g. 25 s) and time out downstream calls inside it."
        )
    else:
        steps.append(
            "Keep the function timeout below API Gateway's 29 s integration timeout (e.g. 25 s) so a slow cold start "
            "fails inside Lambda with a logged error instead of a gateway 504 while the function keeps running."
        )
    init = f" (init P50 {fmt_ms(evidence['init_p50_ms'])}, max {fmt_ms(evidence['init_max_ms'])})" if "init_p50_ms" in evidence else ""
    steps.append(
        f"Shorten cold starts{init}: SnapStart (Java 11+, Python 3.12+, .NET 8), lazy initialisation of SDK clients and "
        "connections, smaller packages; have clients retry 5XX/504 with exponential backoff and jitter."
    )
    return steps


def detect(inputs: Inputs) -> Finding | None:
    """``cold-start-timeouts``: cold starts under a burst time out, the gateway returns 5XX (incidents.md #2).

    From requests (>= 50 rows): failing requests are 5XX, timed out, or (without a status)
    at API Gateway's 29 s integration cap. Required: >= 5 failures, at least half of them
    timeouts (``timed_out``, 504, "Task timed out", latency at the gateway cap or at the
    function timeout from ``settings``), a failure rate
    significantly above the baseline's (z-test p < 0.01) or >= 1 % without a baseline,
    and cold starts concentrated in the failures: cold-start rate among failing
    requests (or, when cold starts are only known for other rows, in the minutes with
    failures) >= 2x the rest, one-sided z-test p < 0.01. Without any cold-start column,
    metrics must show a concurrency surge (>= 2x baseline), concurrency near its limit
    (>= 80 %) or throttles.

    From metrics only (no requests): API Gateway 5XX rate >= 1 % (and above the
    baseline's), IntegrationLatency Maximum at the 29 s cap (or Lambda Duration Maximum
    near the function timeout), and a concurrency surge, limit or throttles. Cold starts
    are then inferred, so confidence stays at or below 0.6.

    Severity: :func:`~incidentkit.analyses._common.severity_for_share` of the failure
    rate during the minutes with failures, lowered when they last under 5 minutes.

    Returns
    -------
    Finding or None
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)
