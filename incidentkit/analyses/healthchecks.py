"""Health checks: unhealthy-host episodes, check timing against spikes, Route 53 checks blocked by a change.

Load balancer health checks fail a target after ``UnhealthyThresholdCount`` checks in a row,
one every ``HealthCheckIntervalSeconds``, each allowed ``HealthCheckTimeoutSeconds``. Set
tight (interval 5 s, timeout 2 s, threshold 2), a ten-second CPU or latency spike is enough
to pull healthy targets out of service, and they come back a minute later: flapping, with
502s while the group is short of targets. Route 53 health checks fail the same way when a
security-group change stops the checkers from reaching an endpoint that is, by its own
metrics, perfectly healthy — and DNS failover then moves all traffic away.

Analyses (pure functions on the kit's frames):

* :func:`unhealthy_episodes` — runs of ``UnHealthyHostCount > 0`` per target group, with their
  length, depth and the ELB 502s inside them.
* :func:`transient_spikes` — CPU (``CPUUtilization``) or latency (``TargetResponseTime``) spikes
  above a robust baseline, with their length.
* :func:`check_timing` — each target group's (and Route 53 check's) timing: how long a
  failure must last before a target is marked unhealthy (interval × threshold), the timeout
  against the observed P99 response time, what is too tight and what to set instead.
* :func:`route53_drops`, :func:`service_signals`, :func:`checker_failures` — when a Route 53
  check went unhealthy, what the service's own metrics said at that moment, and what the
  checkers reported (timeouts look like a firewall; HTTP 5xx looks like the service).

Detectors: :func:`detect_health_check_flapping` (``health-check-flapping``) and
:func:`detect_healthcheck_blocked_by_change` (``healthcheck-blocked-by-change``).

Example
-------
>>> import pandas as pd
>>> ts = pd.date_range("2026-03-01T10:00Z", periods=10, freq="1min")
>>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
...     "dimensions": '{"LoadBalancer":"app/web/1","TargetGroup":"targetgroup/web/2"}', "stat": "Maximum",
...     "period": 60, "value": [0, 1, 1, 0, 0, 0, 2, 0, 0, 0]})
>>> unhealthy_episodes(m)["duration_s"].tolist()
[120.0, 60.0]
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..findings.model import Finding, Inputs
from ._common import (
    as_utc,
    empty_table,
    iso_z,
    load_balancer_level,
    parse_dims,
    pct,
    select_metric,
    severity_for_share,
    tg_matches,
)
from ..fetch.change_detail import ports_of
from .change_words import blameless_actor, when_text
from .related import ChangeSpec, related_changes, sentence, targets_from
from .related import evidence as related_evidence

__all__ = [
    "EPISODE_COLUMNS",
    "SPIKE_COLUMNS",
    "TRANSITION_COLUMNS",
    "TIMING_COLUMNS",
    "DROP_COLUMNS",
    "SERVICE_COLUMNS",
    "unhealthy_episodes",
    "unhealthy_spells",
    "transient_spikes",
    "target_transitions",
    "check_timing",
    "route53_drops",
    "traffic_by_load_balancer",
    "service_signals",
    "checker_failures",
    "detect_health_check_flapping",
    "detect_healthcheck_blocked_by_change",
    "HEALTH_CHECK_FLAPPING_CHANGES",
    "HEALTHCHECK_BLOCKED_CHANGES",
    "CHECK_TOLERANCE_FLOOR_S",
]

UTC_NS = "datetime64[ns, UTC]"

EPISODE_COLUMNS = (
    "target_group",
    "load_balancer",
    "start",
    "end",
    "duration_s",
    "peak_unhealthy",
    "min_healthy",
    "elb_502",  # HTTPCode_ELB_502_Count inside the episode
    "ongoing",  # still unhealthy at the last datapoint
    "resolution_s",  # the metric period: duration_s is a whole number of these, an upper bound
)
SPIKE_COLUMNS = ("signal", "resource", "start", "end", "duration_s", "peak", "baseline", "resolution_s")
TRANSITION_COLUMNS = ("timestamp", "target_group", "target_id", "reason", "description")
TIMING_COLUMNS = (
    "resource_id",
    "kind",  # target_group | route53
    "interval_s",
    "timeout_s",
    "healthy_threshold",
    "unhealthy_threshold",
    "time_to_unhealthy_s",  # interval × unhealthy threshold: how long failing checks must last
    "time_to_healthy_s",
    "response_p99_typical_s",  # median over time of the P99 (or Maximum) target response time
    "response_p99_peak_s",
    "tight",
    "reasons",
    "recommended_interval_s",
    "recommended_timeout_s",
    "recommended_unhealthy_threshold",
    "recommended_healthy_threshold",
)
DROP_COLUMNS = ("health_check_id", "start", "end", "duration_s", "min_status", "min_percentage_healthy", "ongoing")
SERVICE_COLUMNS = ("signal", "before", "during", "ratio", "healthy")

#: Route 53 calls an endpoint healthy while more than 18 % of its checkers do.
ROUTE53_HEALTHY_PCT = 18.0
#: The shortest failure a health check should outlast: one default ALB interval (30 s). Checks that pull a
#: target after less than that react to GC pauses and single slow requests, not to failures.
CHECK_TOLERANCE_FLOOR_S = 30.0
#: ALB defaults (HTTP target groups), used as the floor of recommendations.
ALB_DEFAULTS = {"interval_s": 30, "timeout_s": 5, "healthy_threshold": 5, "unhealthy_threshold": 2}

_SECURITY_EVENT = re.compile(
    r"SecurityGroup|NetworkAcl|WebACL|IPSet|RuleGroup|FirewallPolicy|PrefixList|SetSecurityGroups|ModifyNetworkInterfaceAttribute"
)
_REMOVES_ACCESS = re.compile(r"^(Revoke|Delete|Replace|Modify|Update|Set|Disassociate)")
_PORT = re.compile(r"\"?(?:fromPort|FromPort|from_port)\"?\s*[:=]\s*\"?(-?\d+)")
_TO_PORT = re.compile(r"\"?(?:toPort|ToPort|to_port)\"?\s*[:=]\s*\"?(-?\d+)")
_REGION = re.compile(r"\"region\"\s*:\s*\"([a-z]{2}(?:-gov)?-[a-z]+-\d)\"")
_TIMEOUT_TEXT = re.compile(r"(?i)timed out|timeout|blocked by your firewall")
_REFUSED_TEXT = re.compile(r"(?i)connection refused|refused")
_HTTP_FAIL_TEXT = re.compile(r"(?i)HTTP Status Code:?\s*[45]\d\d|status code [45]\d\d")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _period(df: pd.DataFrame, default: float = 60.0) -> pd.Timedelta:
    p = pd.to_numeric(df["period"], errors="coerce").dropna() if "period" in df.columns else pd.Series([], dtype=float)
    return pd.Timedelta(seconds=float(p.median()) if len(p) else default)


def _without_az(df: pd.DataFrame) -> pd.DataFrame:
    """Prefer datapoints without an AvailabilityZone dimension (group totals) when both exist."""
    if df.empty:
        return df
    has_az = df["dimensions"].map(lambda d: "AvailabilityZone" in parse_dims(d))
    if has_az.all() or not has_az.any():
        return df
    return df.loc[~has_az.to_numpy(dtype=bool)]


def _runs(times: pd.Series, flags: np.ndarray, period: pd.Timedelta) -> list[tuple[int, int]]:
    """Index ranges ``(first, last)`` of consecutive True bins (a missing bin breaks a run)."""
    runs: list[tuple[int, int]] = []
    start = None
    prev_t = None
    for i, (t, f) in enumerate(zip(times, flags)):
        if f and start is not None and prev_t is not None and t - prev_t <= period * 1.5:
            prev_t = t
            continue
        if start is not None:
            runs.append((start, i - 1))
            start = None
        if f:
            start = i
            prev_t = t
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def _settings(settings: pd.DataFrame | None) -> pd.DataFrame:
    if settings is None or settings.empty or "value" not in settings.columns:
        return pd.DataFrame(columns=["resource_type", "resource_id", "setting", "value"])
    key = "setting" if "setting" in settings.columns else ("key" if "key" in settings.columns else None)
    if key is None:
        return pd.DataFrame(columns=["resource_type", "resource_id", "setting", "value"])
    out = pd.DataFrame(
        {
            "resource_type": settings["resource_type"].astype("string").fillna("") if "resource_type" in settings.columns else "",
            "resource_id": settings["resource_id"].astype("string").fillna("") if "resource_id" in settings.columns else "",
            "setting": settings[key].astype("string"),
            "value": settings["value"],
        }
    )
    return out.reset_index(drop=True)


def _sum_in(df: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> float:
    if df.empty:
        return 0.0
    sel = (df["timestamp"] >= start) & (df["timestamp"] < end)
    return float(df.loc[sel, "value"].sum())


# ---------------------------------------------------------------------------------------------
# target groups
# ---------------------------------------------------------------------------------------------


def unhealthy_episodes(metrics: pd.DataFrame | None) -> pd.DataFrame:
    """Runs of unhealthy targets per target group.

    Reads ``AWS/ApplicationELB`` (or ``AWS/NetworkELB``) ``UnHealthyHostCount`` (Maximum
    preferred: it catches a target that was unhealthy for part of the bin; Average, Minimum
    otherwise). Without it, ``HealthyHostCount`` dipping below its maximum stands in. Group
    totals are preferred over per-AZ datapoints; per-AZ datapoints alone are summed.

    Returns
    -------
    pandas.DataFrame
        :data:`EPISODE_COLUMNS`, one row per episode in time order; ``duration_s`` counts
        whole bins, so it is an upper bound at the metric's resolution (``resolution_s``): an
        episode seen in one 60 s bin lasted anything up to 60 s. ``elb_502`` sums
        ``HTTPCode_ELB_502_Count`` of the episode's load balancer over it.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T10:00Z", periods=4, freq="1min")
    >>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
    ...     "dimensions": '{"TargetGroup":"targetgroup/web/2"}', "stat": "Maximum", "period": 60, "value": [0, 0, 0, 0]})
    >>> unhealthy_episodes(m).empty
    True
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "ongoing": "bool", "duration_s": "float64"}
    namespaces = ("AWS/ApplicationELB", "AWS/NetworkELB", "AWS/GatewayELB")
    unhealthy = pd.concat([select_metric(metrics, ns, "UnHealthyHostCount", ("Maximum", "Average", "Minimum")) for ns in namespaces])
    healthy = pd.concat([select_metric(metrics, ns, "HealthyHostCount", ("Minimum", "Average", "Maximum")) for ns in namespaces])
    derived = False
    if unhealthy.empty and not healthy.empty:
        unhealthy, derived = healthy, True
    if unhealthy.empty:
        return empty_table(EPISODE_COLUMNS, dt)
    unhealthy = _without_az(unhealthy)
    healthy = _without_az(healthy)
    e502 = pd.concat([select_metric(metrics, ns, "HTTPCode_ELB_502_Count", "Sum") for ns in namespaces])
    rows = []
    unhealthy = unhealthy.assign(tg=unhealthy["dimensions"].map(lambda d: parse_dims(d).get("TargetGroup", "(all)")),
                                 lb=unhealthy["dimensions"].map(lambda d: parse_dims(d).get("LoadBalancer", "")))
    for (tg, lb), grp in unhealthy.groupby(["tg", "lb"], sort=False):
        series = grp.groupby("timestamp", as_index=False).agg(value=("value", "sum"), period=("period", "max")).sort_values("timestamp")
        period = _period(series)
        values = series["value"].to_numpy(dtype=float)
        if derived:
            values = np.nanmax(values) - values
        hh = healthy[healthy["dimensions"].map(lambda d: parse_dims(d).get("TargetGroup", "(all)") == tg).to_numpy(dtype=bool)] if not healthy.empty else healthy
        lb_502 = e502[e502["dimensions"].map(lambda d: not lb or parse_dims(d).get("LoadBalancer", lb) == lb).to_numpy(dtype=bool)] if not e502.empty else e502
        lb_502 = lb_502.groupby("timestamp", as_index=False)["value"].sum() if not lb_502.empty else lb_502
        times = series["timestamp"].reset_index(drop=True)
        for a, b in _runs(times, values > 0, period):
            start, end = times[a], times[b] + period
            hwin = hh[(hh["timestamp"] >= start) & (hh["timestamp"] < end)]["value"] if not hh.empty else pd.Series([], dtype=float)
            rows.append(
                {
                    "target_group": tg,
                    "load_balancer": lb or None,
                    "start": start,
                    "end": end,
                    "duration_s": (end - start).total_seconds(),
                    "peak_unhealthy": float(np.nanmax(values[a: b + 1])),
                    "min_healthy": float(hwin.min()) if len(hwin) else float("nan"),
                    "elb_502": _sum_in(lb_502, start, end),
                    "ongoing": b == len(values) - 1,
                    "resolution_s": period.total_seconds(),
                }
            )
    if not rows:
        return empty_table(EPISODE_COLUMNS, dt)
    out = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["ongoing"] = out["ongoing"].astype(bool)
    return out.sort_values("start", kind="stable", ignore_index=True)


def transient_spikes(metrics: pd.DataFrame | None, signal: str = "cpu", *, z: float = 3.5, min_rise: float = 1.5) -> pd.DataFrame:
    """Spikes of CPU or target latency above their own robust baseline.

    A bin is a spike when it exceeds ``median + z × 1.4826 × MAD`` of the whole series *and*
    ``min_rise × median`` (so a flat series with a tiny MAD does not spike on noise).
    Consecutive spike bins form one spike.

    Parameters
    ----------
    metrics:
        Long metrics frame.
    signal:
        ``cpu`` — ``CPUUtilization`` (Maximum, else Average) of ``AWS/EC2``, ``AWS/ECS`` or
        ``AWS/RDS``, the highest across instances per bin (one hot instance is enough to fail
        its checks); ``latency`` — ``TargetResponseTime`` (p99 preferred: what queued requests
        and the checks behind them wait; then p99.9, p90, Maximum, Average) of
        ``AWS/ApplicationELB``, in seconds. A single slow request makes the Maximum spike
        without slowing anything else down.

    Returns
    -------
    pandas.DataFrame
        :data:`SPIKE_COLUMNS`, in time order; ``duration_s`` is the span of the bins the spike
        touched, an upper bound at the metric's resolution (``resolution_s``).

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T10:00Z", periods=30, freq="1min")
    >>> cpu = [20.0] * 30
    >>> cpu[10] = 97.0
    >>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/EC2", "metric_name": "CPUUtilization",
    ...     "dimensions": '{"InstanceId":"i-1"}', "stat": "Maximum", "period": 60, "value": cpu})
    >>> transient_spikes(m, "cpu")[["duration_s", "peak"]].values.tolist()
    [[60.0, 97.0]]
    """
    dt = {"start": UTC_NS, "end": UTC_NS}
    if signal == "cpu":
        parts = [select_metric(metrics, ns, "CPUUtilization", ("Maximum", "Average"))
                 for ns in ("AWS/EC2", "AWS/ECS", "ECS/ContainerInsights")]
    elif signal == "latency":
        parts = [select_metric(metrics, "AWS/ApplicationELB", "TargetResponseTime", ("p99", "p99.9", "p90", "Maximum", "Average"))]
    else:
        raise ValueError(f"signal {signal!r} must be 'cpu' or 'latency'")
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_table(SPIKE_COLUMNS, dt)
    df = pd.concat(parts, ignore_index=True)
    rows = []
    # each instance (or group) against its own baseline: with many instances the fleet's highest CPU
    # of the minute is always somebody's spike, and its median hides them all
    for dims, g in df.groupby("dimensions", sort=False):
        series = g.groupby("timestamp", as_index=False).agg(value=("value", "max"), period=("period", "max")).sort_values("timestamp")
        if len(series) < 5:
            continue
        v = series["value"].to_numpy(dtype=float)
        med = float(np.nanmedian(v))
        mad = float(np.nanmedian(np.abs(v - med))) * 1.4826
        threshold = max(med + z * mad, med * min_rise, med + 1e-9)
        flags = v > threshold
        period = _period(series)
        times = series["timestamp"].reset_index(drop=True)
        d = parse_dims(dims)
        resource = next((d[k] for k in ("InstanceId", "TargetGroup", "AutoScalingGroupName", "ServiceName") if k in d), "(all)")
        for a, b in _runs(times, flags, period):
            rows.append({"signal": signal, "resource": resource, "start": times[a], "end": times[b] + period,
                         "duration_s": (times[b] + period - times[a]).total_seconds(), "peak": float(v[a: b + 1].max()),
                         "baseline": med, "resolution_s": period.total_seconds()})
    if not rows:
        return empty_table(SPIKE_COLUMNS, dt)
    out = pd.DataFrame(rows, columns=list(SPIKE_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    return out.sort_values("start", kind="stable", ignore_index=True)


def target_transitions(health: dict[str, pd.DataFrame] | None) -> pd.DataFrame:
    """When each target was marked unhealthy, from timestamped target-health observations.

    Reads ``health["target_health"]`` (or ``health["targets"]``) rows with a ``timestamp``, a
    ``target_id`` and a ``state``; a transition is a row in state ``unhealthy`` whose previous
    observation of the same target was not unhealthy.

    Returns
    -------
    pandas.DataFrame
        :data:`TRANSITION_COLUMNS`, in time order.

    Example
    -------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T10:00Z", "2026-03-01T10:05Z", "2026-03-01T10:06Z"]),
    ...     "target_id": "i-1", "state": ["healthy", "unhealthy", "unhealthy"], "reason": "Target.Timeout"})
    >>> target_transitions({"target_health": obs})["timestamp"].dt.strftime("%H:%M").tolist()
    ['10:05']
    """
    dt = {"timestamp": UTC_NS}
    frames = [f for f in ((health or {}).get("target_health"), (health or {}).get("targets"))
              if f is not None and not f.empty and {"timestamp", "target_id", "state"} <= set(f.columns)]
    if not frames:
        return empty_table(TRANSITION_COLUMNS, dt)
    t = pd.concat(frames, ignore_index=True)
    t = t.assign(timestamp=as_utc(t["timestamp"])).dropna(subset=["timestamp"]).sort_values(["target_id", "timestamp"], kind="stable")
    bad = t["state"].astype("string").fillna("").str.lower().eq("unhealthy")
    prev_bad = bad.groupby(t["target_id"].astype("string").fillna("")).shift(1, fill_value=False)
    sel = (bad & ~prev_bad.astype(bool)).to_numpy(dtype=bool)
    rows = t.loc[sel]
    out = pd.DataFrame({
        "timestamp": rows["timestamp"].to_numpy(),
        "target_group": (rows["target_group_arn"] if "target_group_arn" in rows.columns else pd.Series(pd.NA, index=rows.index)).astype("string").to_numpy(),
        "target_id": rows["target_id"].astype("string").to_numpy(),
        "reason": (rows["reason"] if "reason" in rows.columns else pd.Series(pd.NA, index=rows.index)).astype("string").to_numpy(),
        "description": (rows["description"] if "description" in rows.columns else pd.Series(pd.NA, index=rows.index)).astype("string").to_numpy(),
    })
    out["timestamp"] = as_utc(out["timestamp"])
    return out.sort_values("timestamp", kind="stable", ignore_index=True)


def unhealthy_spells(health: dict[str, pd.DataFrame] | None, target_group: str | None = None) -> pd.DataFrame:
    """How long each target stayed unhealthy, to the second, from timestamped target-health observations.

    A spell runs from an observation in state ``unhealthy`` to the target's next observation in
    another state; a spell still open at the last observation has no end and is left out. This
    is finer than ``UnHealthyHostCount``, whose 1-minute datapoints only bound an episode.

    Returns
    -------
    pandas.DataFrame
        ``target_id, start, end, duration_s``, in time order.

    Example
    -------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T10:05:12Z", "2026-03-01T10:05:25Z"]),
    ...     "target_id": "i-1", "state": ["unhealthy", "healthy"]})
    >>> unhealthy_spells({"target_health": obs})["duration_s"].tolist()
    [13.0]
    """
    cols = ["target_id", "start", "end", "duration_s"]
    frames = [f for f in ((health or {}).get("target_health"), (health or {}).get("targets"))
              if f is not None and not f.empty and {"timestamp", "target_id", "state"} <= set(f.columns)]
    if not frames:
        return empty_table(cols, {"start": UTC_NS, "end": UTC_NS, "duration_s": "float64"})
    t = pd.concat(frames, ignore_index=True)
    if target_group and "target_group_arn" in t.columns:
        mine = t[t["target_group_arn"].astype("string").fillna("").map(lambda r: tg_matches(str(r), str(target_group)))]
        t = mine if not mine.empty else t
    t = t.assign(timestamp=as_utc(t["timestamp"])).dropna(subset=["timestamp"]).sort_values(["target_id", "timestamp"], kind="stable")
    bad = t["state"].astype("string").fillna("").str.lower().eq("unhealthy").to_numpy(dtype=bool)
    rows = []
    for tid, g in t.assign(_bad=bad).groupby(t["target_id"].astype("string"), sort=False):
        start = None
        for ts, is_bad in zip(g["timestamp"], g["_bad"]):
            if is_bad and start is None:
                start = ts
            elif not is_bad and start is not None:
                rows.append({"target_id": str(tid), "start": start, "end": ts, "duration_s": (ts - start).total_seconds()})
                start = None
    out = pd.DataFrame(rows, columns=cols)
    out["start"], out["end"] = as_utc(out["start"]), as_utc(out["end"])
    out["duration_s"] = out["duration_s"].astype("float64")
    return out.sort_values("start", kind="stable", ignore_index=True)


def _resolution_text(seconds: float) -> str:
    """``60`` → ``1-minute``; ``300`` → ``5-minute``; ``10`` → ``10-second``."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f}-minute"
    return f"{seconds:.0f}-second"


def check_timing(settings: pd.DataFrame | None, *, metrics: pd.DataFrame | None = None,
                 longest_spike_s: float | None = None, spike_resolution_s: float | None = None) -> pd.DataFrame:
    """Each health check's timing, judged against what the service really does.

    For target groups (``HealthCheckIntervalSeconds``, ``HealthCheckTimeoutSeconds``,
    ``HealthyThresholdCount``, ``UnhealthyThresholdCount``) and Route 53 checks
    (``RequestInterval``, ``FailureThreshold``): a target is marked unhealthy after failing
    checks for about ``interval × UnhealthyThresholdCount`` seconds, so any slowdown longer
    than that — a GC pause, a CPU spike, a slow dependency — takes it out of service. The
    check is *tight* when:

    * the timeout is at or below the peak P99 target response time (checks queue behind
      slow requests and time out), or
    * ``interval × threshold`` is shorter than the longest transient spike observed
      (``longest_spike_s``), or shorter than :data:`CHECK_TOLERANCE_FLOOR_S` (30 s) when no
      spike of known length was measured.

    Parameters
    ----------
    settings:
        Settings frame (``schema.SETTING_COLUMNS``).
    metrics:
        Optional; ``TargetResponseTime`` (p99, else Maximum) per target group gives the
        observed response times.
    longest_spike_s:
        Longest CPU/latency spike to tolerate, in seconds.
    spike_resolution_s:
        The period of the metric the spike was read from, when ``longest_spike_s`` counts whole
        bins (:func:`transient_spikes`): a spike over ``k`` bins lasted more than
        ``(k - 2) × period`` and at most ``k × period``. Only the lower bound proves a check too
        tight; the upper bound sizes the recommendation.

    Returns
    -------
    pandas.DataFrame
        :data:`TIMING_COLUMNS`, with recommended values: interval at least 30 s, a timeout
        of 5-10 s and above twice the peak P99 (and below the interval), an unhealthy
        threshold of at least 3 and enough checks to outlast the longest spike.

    Example
    -------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/2",
    ...     "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "UnhealthyThresholdCount", "HealthyThresholdCount"],
    ...     "value": ["5", "2", "2", "2"]})
    >>> row = check_timing(s).iloc[0]
    >>> float(row["time_to_unhealthy_s"]), bool(row["tight"]), int(row["recommended_interval_s"])
    (10.0, True, 30)
    """
    dt = {"tight": "bool"}
    st = _settings(settings)
    if st.empty:
        return empty_table(TIMING_COLUMNS, dt)
    names = st["setting"].str.lower()
    rows = []
    tg_keys = {"healthcheckintervalseconds": "interval_s", "healthchecktimeoutseconds": "timeout_s",
               "healthythresholdcount": "healthy_threshold", "unhealthythresholdcount": "unhealthy_threshold"}
    r53_keys = {"requestinterval": "interval_s", "failurethreshold": "unhealthy_threshold"}
    rt = pd.concat([select_metric(metrics, "AWS/ApplicationELB", "TargetResponseTime", ("p99", "p99.9", "Maximum"))])
    for kind, keys in (("target_group", tg_keys), ("route53", r53_keys)):
        sel = names.isin(list(keys)).fillna(False).to_numpy(dtype=bool)
        if kind == "route53":
            sel = sel & ~st["resource_type"].str.contains("target", case=False, na=False).to_numpy(dtype=bool)
        else:
            sel = sel & ~st["resource_type"].str.contains("route53", case=False, na=False).to_numpy(dtype=bool)
        part = st.loc[sel]
        for rid, grp in part.groupby("resource_id", sort=False):
            vals = {keys[str(k).lower()]: _num(v) for k, v in zip(grp["setting"], grp["value"])}
            interval = vals.get("interval_s", float("nan"))
            if kind == "route53" and math.isnan(interval):
                interval = 30.0  # Route 53's default RequestInterval
            timeout = vals.get("timeout_s", float("nan"))
            unhealthy = vals.get("unhealthy_threshold", 3.0 if kind == "route53" else float("nan"))
            healthy = vals.get("healthy_threshold", float("nan"))
            typical = peak = float("nan")
            if kind == "target_group" and not rt.empty:
                mine = rt[rt["dimensions"].map(lambda d: tg_matches(str(rid), parse_dims(d).get("TargetGroup", "(all)"))).to_numpy(dtype=bool)]
                if not mine.empty:
                    by_t = mine.groupby("timestamp")["value"].max()
                    typical, peak = float(by_t.median()), float(by_t.max())
            t_unhealthy = interval * unhealthy
            reasons = []
            if not math.isnan(timeout) and not math.isnan(peak) and timeout <= peak:
                reasons.append(f"timeout {timeout:g} s is at or below the peak P99 response time {peak:.1f} s")
            at_least = longest_spike_s or 0.0
            if longest_spike_s and spike_resolution_s:
                at_least = max(0.0, longest_spike_s - 2 * spike_resolution_s)
            # without a spike of known length, the floor stands in for it
            floor = CHECK_TOLERANCE_FLOOR_S if at_least <= 0 else 0.0
            if not math.isnan(t_unhealthy) and t_unhealthy < max(at_least, floor):
                if t_unhealthy < at_least and spike_resolution_s:
                    what = (f"the longest spike observed, which lasted at least {at_least:.0f} s "
                            f"({longest_spike_s / spike_resolution_s:.0f} datapoints of {spike_resolution_s:.0f} s in a row)")
                elif t_unhealthy < at_least:
                    what = f"the longest spike observed ({longest_spike_s:.0f} s)"
                else:
                    what = f"{CHECK_TOLERANCE_FLOOR_S:.0f} s"
                reasons.append(f"interval {interval:g} s × threshold {unhealthy:g} = {t_unhealthy:.0f} s of failed checks "
                               f"is shorter than {what}")
            if kind == "target_group" and not math.isnan(timeout) and not math.isnan(interval) and timeout >= interval:
                reasons.append(f"timeout {timeout:g} s is not below the interval {interval:g} s")
            rec_interval = max(30.0, interval) if not math.isnan(interval) else 30.0
            if kind == "route53":
                rec_interval = 30.0
            rec_timeout = float("nan")
            if kind == "target_group":
                want = max(5.0, math.ceil(2 * peak)) if not math.isnan(peak) else max(5.0, timeout if not math.isnan(timeout) else 5.0)
                rec_timeout = float(min(10.0, want, rec_interval - 1))
            need = (longest_spike_s or 0.0) / rec_interval
            rec_unhealthy = float(max(3, math.ceil(need) + 1, unhealthy if not math.isnan(unhealthy) else 0))
            rec_healthy = float(3 if kind == "target_group" else float("nan"))
            rows.append(
                {
                    "resource_id": rid,
                    "kind": kind,
                    "interval_s": interval,
                    "timeout_s": timeout,
                    "healthy_threshold": healthy,
                    "unhealthy_threshold": unhealthy,
                    "time_to_unhealthy_s": t_unhealthy,
                    "time_to_healthy_s": interval * healthy,
                    "response_p99_typical_s": typical,
                    "response_p99_peak_s": peak,
                    "tight": bool(reasons),
                    "reasons": "; ".join(reasons),
                    "recommended_interval_s": rec_interval,
                    "recommended_timeout_s": rec_timeout,
                    "recommended_unhealthy_threshold": rec_unhealthy,
                    "recommended_healthy_threshold": rec_healthy,
                }
            )
    if not rows:
        return empty_table(TIMING_COLUMNS, dt)
    out = pd.DataFrame(rows, columns=list(TIMING_COLUMNS))
    out["tight"] = out["tight"].astype(bool)
    return out


# ---------------------------------------------------------------------------------------------
# Route 53
# ---------------------------------------------------------------------------------------------


def route53_drops(metrics: pd.DataFrame | None) -> pd.DataFrame:
    """When each Route 53 health check was unhealthy.

    ``AWS/Route53`` ``HealthCheckStatus`` (Minimum preferred: 0 as soon as the check failed
    in the bin) below 1; without it, ``HealthCheckPercentageHealthy`` at or below 18 % (Route 53
    calls an endpoint healthy while more than 18 % of its checkers do).

    Returns
    -------
    pandas.DataFrame
        :data:`DROP_COLUMNS`, in time order.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T13:50Z", periods=6, freq="1min")
    >>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
    ...     "dimensions": '{"HealthCheckId":"abc"}', "stat": "Minimum", "period": 60, "value": [1, 1, 0, 0, 0, 1]})
    >>> route53_drops(m)[["health_check_id", "duration_s"]].values.tolist()
    [['abc', 180.0]]
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "ongoing": "bool"}
    status = select_metric(metrics, "AWS/Route53", "HealthCheckStatus", ("Minimum", "Average", "Maximum"))
    share = select_metric(metrics, "AWS/Route53", "HealthCheckPercentageHealthy", ("Average", "Minimum", "Maximum"))
    base, by_status = (status, True) if not status.empty else (share, False)
    if base.empty:
        return empty_table(DROP_COLUMNS, dt)
    base = base.assign(hc=base["dimensions"].map(lambda d: parse_dims(d).get("HealthCheckId", "(all)")))
    sh = share.assign(hc=share["dimensions"].map(lambda d: parse_dims(d).get("HealthCheckId", "(all)"))) if not share.empty else share
    rows = []
    for hc, grp in base.groupby("hc", sort=False):
        series = grp.groupby("timestamp", as_index=False).agg(value=("value", "min"), period=("period", "max")).sort_values("timestamp")
        v = series["value"].to_numpy(dtype=float)
        flags = v < 1.0 if by_status else v <= ROUTE53_HEALTHY_PCT
        times = series["timestamp"].reset_index(drop=True)
        period = _period(series)
        mine = sh[sh["hc"] == hc] if not sh.empty else sh
        for a, b in _runs(times, flags, period):
            start, end = times[a], times[b] + period
            pw = mine[(mine["timestamp"] >= start) & (mine["timestamp"] < end)]["value"] if not mine.empty else pd.Series([], dtype=float)
            rows.append({"health_check_id": hc, "start": start, "end": end, "duration_s": (end - start).total_seconds(),
                         "min_status": float(v[a: b + 1].min()) if by_status else float("nan"),
                         "min_percentage_healthy": float(pw.min()) if len(pw) else (float(v[a: b + 1].min()) if not by_status else float("nan")),
                         "ongoing": b == len(v) - 1})
    if not rows:
        return empty_table(DROP_COLUMNS, dt)
    out = pd.DataFrame(rows, columns=list(DROP_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["ongoing"] = out["ongoing"].astype(bool)
    return out.sort_values("start", kind="stable", ignore_index=True)


def _total(metrics: pd.DataFrame | None, ns: str, names: Sequence[str], stat: str | Sequence[str]) -> pd.DataFrame:
    parts = [load_balancer_level(select_metric(metrics, ns, n, stat)) for n in names]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=["timestamp", "value"])
    df = pd.concat(parts, ignore_index=True)
    return df.groupby("timestamp", as_index=False)["value"].sum()


def _only_load_balancer(metrics: pd.DataFrame | None, load_balancer: str | None) -> pd.DataFrame | None:
    """The metrics with every load-balancer series of another load balancer removed."""
    if metrics is None or metrics.empty or not load_balancer or "dimensions" not in metrics.columns:
        return metrics
    lbs = metrics["dimensions"].map(lambda d: parse_dims(d).get("LoadBalancer"))
    keep = (lbs.isna() | (lbs == load_balancer)).to_numpy(dtype=bool)
    return metrics.loc[keep]


def traffic_by_load_balancer(
    metrics: pd.DataFrame | None,
    at: pd.Timestamp,
    *,
    before: str | pd.Timedelta = "60min",
    lead: str | pd.Timedelta = "10min",
    settle: str | pd.Timedelta = "5min",
    after: str | pd.Timedelta = "30min",
) -> pd.DataFrame:
    """Requests per minute of each load balancer before a moment and after it.

    ``before`` is the span ending ``lead`` before ``at``; ``after`` starts ``settle`` after it
    (DNS answers change within the record's TTL). After a DNS failover the primary's traffic
    falls and the secondary's rises: the ratio tells them apart. CloudWatch publishes
    ``RequestCount`` only for minutes with requests, so rates are totals over the span's length.

    Returns
    -------
    pandas.DataFrame
        ``load_balancer, before_per_min, after_per_min, ratio``, lowest ratio first.

    Example
    -------
    >>> import pandas as pd
    >>> traffic_by_load_balancer(None, pd.Timestamp("2026-03-01T14:00Z")).empty
    True
    """
    cols = ["load_balancer", "before_per_min", "after_per_min", "ratio"]
    req = select_metric(metrics, "AWS/ApplicationELB", "RequestCount", "Sum")
    if req.empty:
        return pd.DataFrame(columns=cols)
    req = load_balancer_level(req)
    req = req.assign(lb=req["dimensions"].map(lambda d: parse_dims(d).get("LoadBalancer", "(all)")))
    at = pd.Timestamp(at)
    b0, b1 = at - pd.Timedelta(lead) - pd.Timedelta(before), at - pd.Timedelta(lead)
    a0, a1 = at + pd.Timedelta(settle), at + pd.Timedelta(settle) + pd.Timedelta(after)
    rows = []
    covered_until = req["timestamp"].max() + _period(req)
    a1 = min(a1, covered_until)
    if a1 <= a0:
        return pd.DataFrame(columns=cols)
    for lb, g in req.groupby("lb", sort=False):
        # CloudWatch publishes RequestCount only for minutes with requests: a missing minute is zero
        per_t = g.groupby("timestamp")["value"].sum()
        vb = per_t[(per_t.index >= b0) & (per_t.index < b1)]
        va = per_t[(per_t.index >= a0) & (per_t.index < a1)]
        if not len(vb):
            continue
        before_pm = float(vb.sum()) / ((b1 - b0).total_seconds() / 60.0)
        after_pm = float(va.sum()) / ((a1 - a0).total_seconds() / 60.0)
        rows.append({"load_balancer": lb, "before_per_min": before_pm, "after_per_min": after_pm,
                     "ratio": after_pm / before_pm if before_pm > 0 else float("nan")})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("ratio", kind="stable", ignore_index=True)


def service_signals(
    metrics: pd.DataFrame | None,
    at: pd.Timestamp,
    *,
    before: str | pd.Timedelta = "60min",
    lead: str | pd.Timedelta = "10min",
    after: str | pd.Timedelta = "5min",
    load_balancer: str | None = None,
) -> pd.DataFrame:
    """The service's own health around a moment, against the hour before it.

    ``during`` is ``[at - lead, at + after)``: the minutes in which a real failure would have
    shown *before* DNS moved traffic away (after a failover the primary is idle, so its
    metrics look clean for the wrong reason); ``before`` is the ``before`` span preceding it.

    Signals (when the metrics are there): ``error_rate`` (ELB + target 5XX over RequestCount),
    ``apigw_error_rate`` (5XXError / Count), ``lambda_error_rate`` (Errors / Invocations),
    ``unhealthy_hosts`` (peak UnHealthyHostCount), ``latency_p99_s`` (TargetResponseTime p99,
    else Average) and ``requests_per_min`` (not judged: failover moves traffic). With
    ``load_balancer`` (the CloudWatch ``LoadBalancer`` dimension, ``app/name/id``) only that load
    balancer's series count — after a failover the *secondary* region's errors are a
    consequence, not a sign that the primary was sick.

    Returns
    -------
    pandas.DataFrame
        :data:`SERVICE_COLUMNS`; ``healthy`` is True/False per judged signal (an error rate
        at most twice the hour before and under 1 % extra, no unhealthy hosts beyond the hour
        before, latency at most twice), NA when not judged.

    Example
    -------
    >>> import pandas as pd
    >>> service_signals(None, pd.Timestamp("2026-03-01T14:00Z")).empty
    True
    """
    at = pd.Timestamp(at)
    metrics = _only_load_balancer(metrics, load_balancer)
    lead_td, before_td, after_td = pd.Timedelta(lead), pd.Timedelta(before), pd.Timedelta(after)
    d0, d1 = at - lead_td, at + after_td
    b0, b1 = d0 - before_td, d0
    rows = []

    def window_sum(df: pd.DataFrame, s: pd.Timestamp, e: pd.Timestamp) -> float:
        return _sum_in(df, s, e)

    def rate(num: pd.DataFrame, den: pd.DataFrame, name: str) -> None:
        if num.empty or den.empty:
            return
        nb, db_ = window_sum(num, b0, b1), window_sum(den, b0, b1)
        nd, dd = window_sum(num, d0, d1), window_sum(den, d0, d1)
        rb = nb / db_ if db_ > 0 else float("nan")
        rd = nd / dd if dd > 0 else float("nan")
        if math.isnan(rd):
            rows.append({"signal": name, "before": rb, "during": rd, "ratio": float("nan"), "healthy": pd.NA})
            return
        base = 0.0 if math.isnan(rb) else rb
        ok = rd <= max(2 * base, base + 0.01)
        rows.append({"signal": name, "before": rb, "during": rd, "ratio": rd / rb if rb and rb > 0 else float("nan"), "healthy": bool(ok)})

    elb_err = _total(metrics, "AWS/ApplicationELB", ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"), "Sum")
    elb_req = _total(metrics, "AWS/ApplicationELB", ("RequestCount",), "Sum")
    rate(elb_err, elb_req, "error_rate")
    rate(_total(metrics, "AWS/ApiGateway", ("5XXError", "5xx"), "Sum"), _total(metrics, "AWS/ApiGateway", ("Count",), "Sum"), "apigw_error_rate")
    rate(_total(metrics, "AWS/Lambda", ("Errors",), "Sum"), _total(metrics, "AWS/Lambda", ("Invocations",), "Sum"), "lambda_error_rate")
    uh = select_metric(metrics, "AWS/ApplicationELB", "UnHealthyHostCount", ("Maximum", "Average"))
    if not uh.empty:
        uh = load_balancer_level(uh).groupby("timestamp", as_index=False)["value"].sum()
        vb = uh[(uh["timestamp"] >= b0) & (uh["timestamp"] < b1)]["value"]
        vd = uh[(uh["timestamp"] >= d0) & (uh["timestamp"] < d1)]["value"]
        if len(vd):
            before_max = float(vb.max()) if len(vb) else 0.0
            rows.append({"signal": "unhealthy_hosts", "before": before_max, "during": float(vd.max()), "ratio": float("nan"),
                         "healthy": bool(float(vd.max()) <= before_max)})
    lat = select_metric(metrics, "AWS/ApplicationELB", "TargetResponseTime", ("p99", "p99.9", "Average"))
    if not lat.empty:
        lat = lat.groupby("timestamp", as_index=False)["value"].max()
        vb = lat[(lat["timestamp"] >= b0) & (lat["timestamp"] < b1)]["value"]
        vd = lat[(lat["timestamp"] >= d0) & (lat["timestamp"] < d1)]["value"]
        if len(vd) and len(vb):
            ratio = float(vd.median()) / float(vb.median()) if float(vb.median()) > 0 else float("nan")
            rows.append({"signal": "latency_p99_s", "before": float(vb.median()), "during": float(vd.median()), "ratio": ratio,
                         "healthy": bool(math.isnan(ratio) or ratio <= 2.0)})
    if not elb_req.empty:
        per_min_b = window_sum(elb_req, b0, b1) / max(1.0, before_td.total_seconds() / 60)
        per_min_d = window_sum(elb_req, d0, d1) / max(1.0, (d1 - d0).total_seconds() / 60)
        rows.append({"signal": "requests_per_min", "before": per_min_b, "during": per_min_d,
                     "ratio": per_min_d / per_min_b if per_min_b > 0 else float("nan"), "healthy": pd.NA})
    out = pd.DataFrame(rows, columns=list(SERVICE_COLUMNS))
    out["healthy"] = out["healthy"].astype("boolean")
    return out


def _checker_rows(obs: pd.DataFrame) -> pd.DataFrame:
    """One row per checker observation: ``checker``, ``time``, ``failed``, ``text`` — plus one per ``last_failure``."""
    status = obs["status"].astype("string").fillna("") if "status" in obs.columns else pd.Series("", index=obs.index)
    success = status.str.lower().str.startswith("success")
    healthy = success
    if "healthy" in obs.columns:  # True/False, or text from another tool ("false", "0")
        given = obs["healthy"].map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                                   else str(v).strip().lower() in ("true", "1", "yes", "healthy"))
        healthy = given.where(given.notna(), success).astype(bool)
    who = next((obs[c].astype("string") for c in ("checker_ip", "ip_address", "region") if c in obs.columns and obs[c].notna().any()),
               pd.Series([str(i) for i in range(len(obs))], index=obs.index, dtype="string"))
    when_col = next((c for c in ("timestamp", "checked_at") if c in obs.columns), None)
    when = as_utc(obs[when_col]) if when_col else pd.Series(pd.NaT, index=obs.index, dtype=UTC_NS)
    rows = pd.DataFrame({"checker": who.to_numpy(), "time": when.to_numpy(), "failed": (~healthy).to_numpy(dtype=bool),
                         "text": status.to_numpy(), "region": (obs["region"].astype("string") if "region" in obs.columns
                                                               else pd.Series(pd.NA, index=obs.index, dtype="string")).to_numpy()})
    if "last_failure" in obs.columns:  # a snapshot: each checker's most recent failure, when it had one
        last = obs["last_failure"].astype("string").fillna("")
        at = as_utc(obs["last_failure_at"]) if "last_failure_at" in obs.columns else pd.Series(pd.NaT, index=obs.index, dtype=UTC_NS)
        has = (last.str.len() > 0).to_numpy(dtype=bool)
        extra = pd.DataFrame({"checker": who.to_numpy()[has], "time": at.to_numpy()[has], "failed": True,
                              "text": last.to_numpy()[has], "region": rows["region"].to_numpy()[has]})
        rows = pd.concat([rows, extra], ignore_index=True)
    rows["time"] = as_utc(rows["time"])
    return rows


def checker_failures(health: dict[str, pd.DataFrame] | None, health_check_id: str | None = None, *,
                     start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> dict[str, Any]:
    """What the Route 53 checkers themselves reported (``health["route53_checkers"]``).

    The observations come two ways, and both count: over time (one row per observation, with
    a ``timestamp`` or ``checked_at``), or as one GetHealthCheckStatus snapshot whose
    ``last_failure``/``last_failure_at`` keep each checker's most recent failure — a checker that
    recovered before the snapshot still failed. A checker is its ``checker_ip`` (else its region).
    With ``start``/``end`` only observations in ``[start, end)`` count (those without a time
    always do).

    Returns
    -------
    dict
        ``checkers`` (distinct), ``checkers_failed`` (distinct checkers with a failed
        observation), ``failed_observations``, ``observations``, ``failing`` (checkers whose
        latest observation is a failure), ``share_failing`` (``checkers_failed / checkers``),
        and among the failed observations the shares that ``timed_out`` (no answer: a firewall
        or security group dropping the checkers), were ``refused`` or got an ``http_error``
        (the endpoint answered 4xx/5xx: the service itself), plus ``regions_failing``.

    Example
    -------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"health_check_id": "abc", "region": ["us-east-1", "eu-west-1"],
    ...     "status": ["Failure: Connection timed out. The endpoint or the internet connection is down, "
    ...                "or requests are being blocked by your firewall.", "Success: HTTP Status Code 200, OK"]})
    >>> c = checker_failures({"route53_checkers": obs})
    >>> c["checkers"], c["checkers_failed"], c["share_timed_out"]
    (2, 1, 1.0)
    """
    out: dict[str, Any] = {"checkers": 0, "checkers_failed": 0, "failed_observations": 0, "observations": 0, "failing": 0,
                           "share_failing": float("nan"), "share_timed_out": float("nan"), "share_refused": float("nan"),
                           "share_http_error": float("nan"), "regions_failing": ""}
    obs = (health or {}).get("route53_checkers")
    if obs is None or obs.empty:
        return out
    if health_check_id and "health_check_id" in obs.columns:
        mine = obs[obs["health_check_id"].astype("string") == health_check_id]
        obs = mine if not mine.empty else obs
    rows = _checker_rows(obs)
    if start is not None and end is not None:
        inside = rows["time"].isna() | ((rows["time"] >= start) & (rows["time"] < end))
        rows = rows[inside.to_numpy(dtype=bool)] if inside.any() else rows
    failed = rows[rows["failed"]]
    latest = rows.sort_values("time", kind="stable", na_position="first").groupby("checker", sort=False).tail(1)
    out.update({"checkers": int(rows["checker"].nunique()), "checkers_failed": int(failed["checker"].nunique()),
                "failed_observations": int(len(failed)), "observations": int(len(rows)), "failing": int(latest["failed"].sum())})
    out["share_failing"] = out["checkers_failed"] / out["checkers"] if out["checkers"] else float("nan")
    texts = failed["text"].astype("string").fillna("")
    if len(texts):
        out["share_timed_out"] = float(texts.str.contains(_TIMEOUT_TEXT.pattern, regex=True).mean())
        out["share_refused"] = float(texts.str.contains(_REFUSED_TEXT.pattern, regex=True).mean())
        out["share_http_error"] = float(texts.str.contains(_HTTP_FAIL_TEXT.pattern, regex=True).mean())
    out["regions_failing"] = ",".join(sorted({str(r) for r in failed["region"].dropna()}))
    return out


# ---------------------------------------------------------------------------------------------
# detectors
# ---------------------------------------------------------------------------------------------


def _in_window(df: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    if inputs.window is None or df.empty:
        return df
    w = inputs.window
    sel = (df["end"] > w.start) & (df["start"] < w.end)
    return df[sel] if sel.any() else df


def _aligned_per_target(marks: pd.DataFrame, spikes: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp],
                        slack: pd.Timedelta) -> tuple[float, float] | None:
    """Share of unhealthy marks that fall in a spike *of the same target* or within ``slack`` after it
    (the checks fail during the spike and the mark follows ``interval × threshold`` later), and the
    chance level: the share of that target's time within such reach of its spikes. None when no
    mark's target has its own spike series (targets are not instances, say)."""
    if marks.empty or spikes.empty:
        return None
    own = spikes[spikes["resource"].isin(set(marks["target_id"].astype(str)))]
    if own.empty:
        return None
    t0, t1 = span
    total = max(1.0, (t1 - t0).total_seconds())
    hits, chances = [], []
    for tid, t in zip(marks["target_id"].astype(str), marks["timestamp"]):
        mine = own[own["resource"] == tid]
        hits.append(bool(((mine["start"] <= t) & (mine["end"] + slack >= t)).any()))
        reach = float(sum(((e - s) + slack).total_seconds() for s, e in zip(mine["start"], mine["end"])))
        chances.append(min(1.0, reach / total))
    return float(np.mean(hits)), float(np.mean(chances))


def _aligned(episodes: pd.DataFrame, spikes: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp],
             slack: pd.Timedelta) -> tuple[float, float]:
    """Share of episodes with a spike starting in ``[start - slack, end]``, and the same share for
    windows of the same length placed anywhere (the chance level)."""
    if episodes.empty or spikes.empty:
        return 0.0, float("nan")
    hit = [((spikes["start"] <= e) & (spikes["end"] >= s - slack)).any() for s, e in zip(episodes["start"], episodes["end"])]
    share = float(np.mean(hit))
    # chance: fraction of the covered time from which a window of the median episode length + slack touches a spike
    t0, t1 = span
    total = (t1 - t0).total_seconds()
    if total <= 0:
        return share, float("nan")
    reach = pd.Timedelta(seconds=float(episodes["duration_s"].median())) + slack
    covered = pd.Series(False, index=pd.date_range(t0, t1, freq="1min"))
    for s, e in zip(spikes["start"], spikes["end"]):
        covered[(covered.index >= s - reach) & (covered.index <= e)] = True
    return share, float(covered.mean())


#: The changes that can explain ``health-check-flapping`` (see :mod:`.related`).
HEALTH_CHECK_FLAPPING_CHANGES = ChangeSpec("health-check-flapping", {
    "health-check": "the health check was changed: a shorter interval or timeout, or a lower threshold, pulls targets sooner",
    "target-group-config": "the target group's settings changed",
})


def _flap_durations(eps: pd.DataFrame, spells: pd.DataFrame, spikes: pd.DataFrame) -> tuple[dict[str, Any], str]:
    """Episode and spike lengths with the resolution they were measured at, as evidence and words."""
    res = float(eps["resolution_s"].median()) if "resolution_s" in eps.columns and eps["resolution_s"].notna().any() else 60.0
    ev: dict[str, Any] = {"median_episode_s": float(eps["duration_s"].median()), "longest_episode_s": float(eps["duration_s"].max()),
                          "episode_resolution_s": res}
    if not spells.empty:
        ev.update({"unhealthy_spells": int(len(spells)), "median_unhealthy_spell_s": float(spells["duration_s"].median()),
                   "longest_unhealthy_spell_s": float(spells["duration_s"].max())})
        text = (f"target health observations put each unhealthy spell at a median of {ev['median_unhealthy_spell_s']:.0f} s "
                f"(longest {ev['longest_unhealthy_spell_s']:.0f} s, {len(spells)} spells)")
    else:
        text = (f"the median episode lasted at most {ev['median_episode_s'] / 60:.0f} min "
                f"({_resolution_text(res)} datapoints: a shorter blip fills a whole datapoint)")
    if not spikes.empty:
        ev["spike_resolution_s"] = float(spikes["resolution_s"].max())
        ev["longest_spike_at_least_s"] = max(0.0, float(spikes["duration_s"].max()) - 2 * ev["spike_resolution_s"])
    return ev, text


def _flap_judge(tight: bool, spikes_explain: bool, share_502: float, e502_in: float) -> str:
    if tight or spikes_explain:
        sev = severity_for_share(share_502) if not math.isnan(share_502) else ("medium" if e502_in == 0 else "high")
        return sev if sev in ("critical", "high") else "medium"
    return "low"


def _flap_remediation(row: pd.Series | None, arn: str, longest: float | None, cause: dict[str, Any] | None) -> list[str]:
    if row is not None:
        rec_i, rec_t = int(row["recommended_interval_s"]), int(row["recommended_timeout_s"]) if not math.isnan(row["recommended_timeout_s"]) else 10
        rec_u, rec_h = int(row["recommended_unhealthy_threshold"]), int(row["recommended_healthy_threshold"])
    else:
        rec_i, rec_t, rec_u, rec_h = 30, 10, 3, 3
    undo = (f", changed {when_text(cause['timestamp'])} by {blameless_actor(cause['actor'])} ({cause['api']})"
            if cause is not None else "")
    return [
        f"Loosen the target group's health check{undo}: HealthCheckIntervalSeconds {rec_i}, HealthCheckTimeoutSeconds {rec_t}, "
        f"UnhealthyThresholdCount {rec_u}, HealthyThresholdCount {rec_h} — a target then has to fail for "
        f"{rec_i * rec_u} s before it is pulled" + (f", longer than the longest spike could have lasted ({longest:.0f} s)." if longest else "."),
        f"aws elbv2 modify-target-group --target-group-arn {arn} --health-check-interval-seconds {rec_i} "
        f"--health-check-timeout-seconds {rec_t} --unhealthy-threshold-count {rec_u} --healthy-threshold-count {rec_h}",
        "Keep the health endpoint shallow and cheap (no database or downstream calls; deep checks go to a separate "
        "monitor) and serve it outside the request queue so a busy worker pool does not starve it.",
        "Then look at the spikes themselves (GC pauses, cron jobs, bursts without autoscaling headroom) and alarm on "
        "UnHealthyHostCount > 0 for several minutes rather than on single blips.",
    ]


def detect_health_check_flapping(inputs: Inputs) -> Finding | None:
    """``health-check-flapping``: healthy targets pulled out by checks too tight for transient spikes.

    Fires when a target group has at least three unhealthy episodes in the window and most
    are short (recovering on their own within max(5 min, 3 × (time to unhealthy + time to
    healthy))) — flapping, not a dead host. Confidence grows with the evidence that the checks,
    not the targets, are at fault: settings tighter than the observed spikes or P99, episodes
    that start with a CPU or latency spike (against the chance level), ELB 502s inside the
    episodes, ``Target.Timeout`` reason codes, a change of the health check before the first
    episode (:data:`HEALTH_CHECK_FLAPPING_CHANGES`). Severity follows the share of requests
    that got an ELB 502 (at least medium when the settings are tight or spikes line up).

    Durations carry the resolution they were measured at: an episode of 1-minute
    ``UnHealthyHostCount`` datapoints is an upper bound; timestamped target-health
    observations, when present, give each target's unhealthy spell to the second.

    Example
    -------
    >>> import pandas as pd
    >>> ts = pd.date_range("2026-03-01T10:00Z", periods=30, freq="1min")
    >>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
    ...     "dimensions": '{"TargetGroup":"targetgroup/web/2"}', "stat": "Maximum", "period": 60,
    ...     "value": [1.0 if i % 7 == 3 else 0.0 for i in range(30)]})
    >>> f = detect_health_check_flapping(Inputs(metrics=m))
    >>> f.evidence["unhealthy_episodes"], f.severity      # flapping, but no settings or spikes to blame: low
    (4, 'low')
    """
    eps = _in_window(unhealthy_episodes(inputs.metrics), inputs)
    if len(eps) < 3:
        return None
    tg = eps["target_group"].value_counts().index[0]
    eps = eps[eps["target_group"] == tg].reset_index(drop=True)
    if len(eps) < 3:
        return None
    cpu = transient_spikes(inputs.metrics, "cpu")
    lat = transient_spikes(inputs.metrics, "latency")
    spikes = pd.concat([s for s in (cpu, lat) if not s.empty], ignore_index=True) if not (cpu.empty and lat.empty) else cpu
    longest = float(spikes["duration_s"].max()) if not spikes.empty else None
    spike_res = float(spikes["resolution_s"].max()) if not spikes.empty else None
    timing = check_timing(inputs.settings, metrics=inputs.metrics, longest_spike_s=longest, spike_resolution_s=spike_res)
    tgt = timing[(timing["kind"] == "target_group") & timing["resource_id"].map(lambda r: tg_matches(str(r), str(tg)))] if not timing.empty else timing
    row = tgt.iloc[0] if not tgt.empty else None
    t_cycle = 0.0
    if row is not None:
        t_cycle = float(np.nansum([row["time_to_unhealthy_s"], row["time_to_healthy_s"]]))
    short_limit = max(300.0, 3 * t_cycle)
    short_share = float((eps["duration_s"] <= short_limit).mean())
    if short_share < 0.6:
        return None
    all_eps = unhealthy_episodes(inputs.metrics)
    span_src = select_metric(inputs.metrics, None, "UnHealthyHostCount") if inputs.metrics is not None else None
    if span_src is not None and not span_src.empty:
        span = (span_src["timestamp"].min(), span_src["timestamp"].max() + pd.Timedelta(minutes=1))
    else:
        span = (all_eps["start"].min(), all_eps["end"].max())
    slack = pd.Timedelta(minutes=2)
    marks = target_transitions(inputs.health)
    marks = marks[marks["target_group"].fillna("").map(lambda r: tg_matches(str(r), str(tg)))] if not marks.empty else marks
    mark_slack = pd.Timedelta(seconds=max(60.0, float(row["time_to_unhealthy_s"]) if row is not None and not math.isnan(row["time_to_unhealthy_s"]) else 60.0))
    per_target = _aligned_per_target(marks, spikes, span, mark_slack) if not marks.empty else None
    if per_target is not None:
        spike_share, chance = per_target
        alignment = "per target"
    else:
        spike_share, chance = _aligned(eps, spikes, span, slack)
        alignment = "per episode"
    spikes_explain = spike_share >= 0.5 and (math.isnan(chance) or spike_share >= 1.5 * chance)
    tight = bool(row is not None and row["tight"])
    e502_in = float(eps["elb_502"].sum())
    e502_all = float(_total(inputs.metrics, "AWS/ApplicationELB", ("HTTPCode_ELB_502_Count",), "Sum")["value"].sum())
    reqs = _total(inputs.metrics, "AWS/ApplicationELB", ("RequestCount",), "Sum")
    if inputs.window is not None and not reqs.empty:
        reqs = reqs[(reqs["timestamp"] >= inputs.window.start) & (reqs["timestamp"] < inputs.window.end)]
    total_requests = float(reqs["value"].sum()) if not reqs.empty else float("nan")
    share_502 = e502_in / total_requests if total_requests and total_requests > 0 else float("nan")
    timeouts = _target_reasons(inputs.health, tg).get("Target.Timeout", 0)
    related = related_changes(inputs.changes, HEALTH_CHECK_FLAPPING_CHANGES,
                              targets_from(tg, inputs.resources.get("target_group_arn"), kind="target_group"),
                              onset=eps["start"].min(), window=inputs.window)
    cause = related[0] if related else None

    confidence = 0.35
    confidence += 0.2 if tight else 0.0
    confidence += 0.2 * spike_share if spikes_explain else 0.0
    confidence += 0.1 if e502_in > 0 and e502_in >= 0.5 * e502_all else 0.0
    confidence += 0.05 if timeouts else 0.0
    confidence += 0.05 if len(eps) >= 5 else 0.0
    confidence += 0.05 if cause is not None else 0.0
    severity = _flap_judge(tight, spikes_explain, share_502, e502_in)

    durations, duration_text = _flap_durations(eps, unhealthy_spells(inputs.health, tg), spikes)
    evidence: dict[str, Any] = {
        "target_group": tg,
        "unhealthy_episodes": int(len(eps)),
        **durations,
        "short_episode_limit_s": short_limit,
        "share_short_episodes": short_share,
        "peak_unhealthy_hosts": float(eps["peak_unhealthy"].max()),
        "elb_502_in_episodes": e502_in,
        "elb_502_total": e502_all,
        "share_requests_502": share_502,
        "unhealthy_marks": int(len(marks)),
        "spike_alignment": alignment,
        "episodes_with_spike": spike_share,
        "chance_of_spike": chance,
        "longest_spike_s": longest,
        "cpu_spike_peak": float(cpu["peak"].max()) if not cpu.empty else None,
        "latency_spike_peak_s": float(lat["peak"].max()) if not lat.empty else None,
        "target_timeout_reasons": timeouts,
    }
    if row is not None:
        evidence.update({
            "HealthCheckIntervalSeconds": row["interval_s"],
            "HealthCheckTimeoutSeconds": row["timeout_s"],
            "UnhealthyThresholdCount": row["unhealthy_threshold"],
            "HealthyThresholdCount": row["healthy_threshold"],
            "time_to_unhealthy_s": row["time_to_unhealthy_s"],
            "response_p99_peak_s": row["response_p99_peak_s"],
        })
        if f"shorter than {CHECK_TOLERANCE_FLOOR_S:.0f} s" in str(row["reasons"]):
            evidence["check_tolerance_floor_s"] = CHECK_TOLERANCE_FLOOR_S
    evidence.update(related_evidence(cause))
    res_text = _resolution_text(evidence["episode_resolution_s"])
    parts = [f"{len(eps)} unhealthy episodes on {tg} in {res_text} UnHealthyHostCount datapoints, {pct(short_share, 0)} of "
             f"them over within {short_limit / 60:.0f} min; {duration_text}"]
    if row is not None:
        parts.append(f"health checks every {row['interval_s']:g} s with a {row['timeout_s']:g} s timeout mark a target unhealthy "
                     f"after {row['time_to_unhealthy_s']:.0f} s of failures" + (f" — too tight: {row['reasons']}" if row["reasons"] else ""))
    spike_len = (f", spikes spanning up to {longest / 60:.0f} min of {_resolution_text(spike_res)} datapoints"
                 if longest and spike_res else "")
    if spikes_explain and alignment == "per target":
        parts.append(f"{pct(spike_share, 0)} of the {len(marks)} unhealthy marks came with a CPU or latency spike on the same target"
                     + (f" (chance {pct(chance, 0)})" if not math.isnan(chance) else "") + spike_len)
    elif spikes_explain:
        parts.append(f"{pct(spike_share, 0)} of the episodes start with a CPU or latency spike"
                     + (f" (chance {pct(chance, 0)})" if not math.isnan(chance) else "") + spike_len)
    if e502_in:
        parts.append(f"{e502_in:.0f} ELB 502s inside the episodes" + (f" ({pct(share_502, 2)} of requests)" if not math.isnan(share_502) else ""))
    if timeouts:
        parts.append(f"target health gives Target.Timeout as the reason {timeouts} time{'s' if timeouts != 1 else ''}")
    summary = "; ".join(parts) + ". Healthy targets are being taken out of service by transient slowness, not by failure."
    if cause is not None:
        summary += " " + sentence(cause, reference=inputs.window.start if inputs.window is not None else None)
    arn = str(tgt.iloc[0]["resource_id"]) if row is not None else "<target-group-arn>"
    return Finding(
        id="health-check-flapping",
        title="Health checks too tight: targets flap on transient spikes",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=_flap_remediation(row, arn, longest, cause),
        confidence=round(min(0.95, confidence), 3),
        related_changes=related,
        onset=iso_z(eps["start"].min()),
    )


def _target_reasons(health: dict[str, pd.DataFrame] | None, tg: str) -> dict[str, int]:
    """Reason codes of targets not healthy (``targets`` of a snapshot, or ``target_health`` observations)."""
    frames = [f for f in ((health or {}).get("targets"), (health or {}).get("target_health")) if f is not None and not f.empty]
    t = pd.concat(frames, ignore_index=True) if frames else None
    if t is None or "reason" not in t.columns:
        return {}
    if "state" in t.columns:
        t = t[t["state"].astype("string").fillna("").str.lower().ne("healthy").to_numpy(dtype=bool)]
    if "target_group_arn" in t.columns:
        mine = t[t["target_group_arn"].astype("string").fillna("").map(lambda r: tg_matches(str(r), tg))]
        t = mine if not mine.empty else t
    return {str(k): int(v) for k, v in t["reason"].dropna().astype(str).value_counts().items()}


def _primary_load_balancer(shift: pd.DataFrame, fqdn: str | None) -> str | None:
    """The load balancer behind the failed check: the one whose traffic left after the drop, else the
    one whose name appears in the check's domain name; None when it cannot be told (one or no LB)."""
    if shift.empty:
        return None
    dropped = shift[shift["ratio"] < 0.5]
    if len(dropped) == 1:
        return str(dropped["load_balancer"].iloc[0])
    if fqdn and len(shift) > 1:
        named = [lb for lb in shift["load_balancer"] if lb.split("/")[1:2] and lb.split("/")[1].lower() in fqdn.lower()]
        if len(named) == 1:
            return named[0]
    return None


def _r53_setting(settings: pd.DataFrame | None, hc: str, name: str) -> str | None:
    st = _settings(settings)
    if st.empty:
        return None
    sel = st["setting"].str.lower() == name.lower()
    sel = sel & ~st["resource_type"].str.contains("target|load_balancer", case=False, na=False)
    rows = st[sel.fillna(False).to_numpy(dtype=bool)]
    if rows.empty:
        return None
    mine = rows[rows["resource_id"] == hc]
    return str((mine if not mine.empty else rows)["value"].iloc[0])


#: The changes that can explain ``healthcheck-blocked-by-change`` (see :mod:`.related`). The security group or NACL
#: in front of an endpoint is rarely named by the investigation, so these kinds also match unscoped; a block
#: fails the checkers within a few check intervals, so only changes shortly before the drop count.
HEALTHCHECK_BLOCKED_CHANGES = ChangeSpec("healthcheck-blocked-by-change", {
    "security-group": "a security-group edit can drop the health checkers' packets",
    "network-acl": "a network ACL entry can drop the health checkers' packets",
    "waf": "a WAF rule can block the health checkers' requests",
    "route53-health-check": "the health check itself was changed (port, path or protocol)",
}, unscoped={"security-group": "60min", "network-acl": "60min", "waf": "60min"}, within="60min")

#: The port Route 53 checks when the health check names none, by check type.
_R53_DEFAULT_PORT = {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}


def _checked_port(settings: pd.DataFrame | None, hc: str) -> tuple[int | None, str]:
    """The port the Route 53 check uses and where that comes from (``settings`` or the type's default)."""
    port = _r53_setting(settings, hc, "Port")
    try:
        if port is not None and str(port).strip():
            return int(float(port)), "settings"
    except ValueError:
        pass
    kind = str(_r53_setting(settings, hc, "Type") or "").upper()
    if kind in _R53_DEFAULT_PORT:
        return _R53_DEFAULT_PORT[kind], f"the {kind} default"
    return None, "unknown"


def _port_match(rec: dict[str, Any], port: int | None) -> bool | None:
    """Whether the change's rules cover the checked port: True, False, or None when either side is unknown."""
    ports = ports_of(rec)
    if port is None or not ports:
        return None
    return any(proto in ("tcp", "all") and lo <= port <= hi for proto, lo, hi in ports)


def _blocking_change(related: list[dict[str, Any]], port: int | None) -> tuple[dict[str, Any] | None, bool | None]:
    """The change most likely to have cut the checkers off: one that removes access on the checked port first."""
    if not related:
        return None, None
    scored = []
    for i, rec in enumerate(related):
        match = _port_match(rec, port)
        removes = bool(_REMOVES_ACCESS.match(str(rec.get("api") or "")))
        scored.append(((not removes, {True: 0, None: 1, False: 2}[match], i), rec, match))
    _, rec, match = min(scored, key=lambda x: x[0])
    return rec, match


def _failover_text(evidence: dict[str, Any], settings: pd.DataFrame | None, hc: str) -> str:
    """What the data shows about traffic after the drop; a failover is claimed only when traffic moved."""
    if "traffic_moved_to" in evidence:
        return (f" Traffic moved: {evidence['primary_load_balancer']} fell from {evidence['primary_requests_per_min_before']:.0f} "
                f"to {evidence['primary_requests_per_min_after']:.0f} requests/min and {evidence['traffic_moved_to']} rose from "
                f"{evidence['secondary_requests_per_min_before']:.0f} to {evidence['secondary_requests_per_min_after']:.0f}: "
                "DNS failover sent the traffic of a healthy endpoint elsewhere.")
    if "primary_load_balancer" in evidence:
        return (f" Traffic at {evidence['primary_load_balancer']} fell from {evidence['primary_requests_per_min_before']:.0f} to "
                f"{evidence['primary_requests_per_min_after']:.0f} requests/min; where it went is not in the metrics read.")
    st = _settings(settings)
    uses = st[(st["setting"].str.lower() == "healthcheckid") & (st["value"].astype("string") == hc)] if not st.empty else st
    if not uses.empty:
        failover = st[(st["resource_id"].isin(uses["resource_id"])) & (st["setting"].str.lower() == "failover")]
        if not failover.empty:
            return (f" A {str(failover['value'].iloc[0]).lower()} failover record uses this check, so Route 53 answers with "
                    "the other record while it fails; the metrics read do not show where traffic went.")
    return ""


def _blocked_summary(first: pd.Series, hc: str, svc_text: str, change: dict[str, Any] | None, port_match: bool | None,
                     port: int | None, checkers: dict[str, Any], timed_out: bool, reference: Any) -> str:
    minutes = float(first["duration_s"]) / 60
    text = (f"Route 53 health check {hc} went unhealthy at {iso_z(first['start'])} for about {minutes:.0f} min"
            + (f" (lowest {first['min_percentage_healthy']:.0f}% of checkers healthy)" if pd.notna(first["min_percentage_healthy"]) else "")
            + (f", while the service's own metrics stayed healthy ({svc_text})" if svc_text else ", with no sign of trouble in the service's own metrics")
            + ". ")
    if change is not None:
        text += sentence(change, reference=reference)
        if port_match is True:
            text += f" Its rules cover TCP {port}, the port the check uses."
        elif port_match is False:
            text += f" Its rules do not cover TCP {port}, the port the check uses."
        elif port is not None:
            text += " Which ports it touched is not in the record."
    else:
        text += ("No security change was found in the timeline (CloudTrail may lag by up to 15 minutes, or the change "
                 "was made outside the window).")
    if checkers["checkers"]:
        text += (f" {checkers['checkers_failed']} of {checkers['checkers']} checkers reported a failure "
                 f"({checkers['failed_observations']} failed observations)")
        text += (f", {pct(checkers['share_timed_out'], 0)} of them timeouts, the mark of dropped packets." if timed_out else ".")
    return text


def detect_healthcheck_blocked_by_change(inputs: Inputs, *, lookback: str | pd.Timedelta = "60min") -> Finding | None:
    """``healthcheck-blocked-by-change``: Route 53 saw the endpoint fail while the service was fine, right after a security change.

    Needs a drop of ``HealthCheckStatus`` (or ``HealthCheckPercentageHealthy``) in the
    metrics. Stays silent when the service's own metrics went bad at that moment (then the
    check was right). Confidence grows with: the service signals judged healthy, a security
    change (security group, NACL, WAF) shortly before the drop, a change that removes access
    on the checked port, and checkers that time out (dropped packets) rather than get an
    HTTP error. Without any security change in the timeline the finding stays low (medium
    when the checkers' timeouts point at a firewall).

    The changes come from :data:`HEALTHCHECK_BLOCKED_CHANGES` in the ``lookback`` before the
    drop; the one that removes access on the checked port leads. The checked port is the
    check's ``Port``, else its type's default (80 for HTTP, 443 for HTTPS); the comparison is
    True, False, or unknown (None) when the change record names no port. The checkers are
    counted as distinct checkers with a failed observation around the drop. A DNS failover is
    claimed only when the load balancers' traffic shows it.

    Example
    -------
    >>> detect_healthcheck_blocked_by_change(Inputs()) is None
    True
    """
    drops = route53_drops(inputs.metrics)
    if drops.empty:
        return None
    drops = _in_window(drops, inputs)
    first = drops.iloc[0]
    start = first["start"]
    hc = str(first["health_check_id"])
    shift = traffic_by_load_balancer(inputs.metrics, start)
    primary = _primary_load_balancer(shift, _r53_setting(inputs.settings, hc, "FullyQualifiedDomainName"))
    svc = service_signals(inputs.metrics, start, load_balancer=primary)
    judged = svc[svc["healthy"].notna()]
    if (judged["healthy"] == False).any():  # noqa: E712 - nullable boolean
        return None
    checkers = checker_failures(inputs.health, hc, start=start - pd.Timedelta(minutes=5),
                                end=first["end"] + pd.Timedelta(minutes=5))
    if not math.isnan(checkers["share_http_error"]) and checkers["share_http_error"] >= 0.5:
        return None  # the endpoint answered with errors: the service, not the path, failed
    port, port_source = _checked_port(inputs.settings, hc)
    spec = replace(HEALTHCHECK_BLOCKED_CHANGES, within=str(pd.Timedelta(lookback)),
                   unscoped={k: str(pd.Timedelta(lookback)) for k in HEALTHCHECK_BLOCKED_CHANGES.unscoped})
    targets = targets_from(hc, kind="health_check") + targets_from(inputs.resources.get("security_group_ids"), kind="security_group")
    related = related_changes(inputs.changes, spec, targets, onset=start, window=inputs.window, slack="2min")
    change, port_match = _blocking_change(related, port)
    if change is not None:  # the most likely one leads the list
        related = [change] + [r for r in related if r is not change]

    confidence = 0.3
    confidence += 0.15 if len(judged) >= 2 else (0.05 if len(judged) == 1 else 0.0)
    lag_min = float("nan")
    if change is not None:
        lag_min = float(change["lead_s"]) / 60.0
        confidence += 0.3 if lag_min <= 30 else 0.2
        confidence += 0.05 if _REMOVES_ACCESS.match(str(change.get("api", ""))) else 0.0
        confidence += 0.05 if port_match else 0.0
    timed_out = not math.isnan(checkers["share_timed_out"]) and checkers["share_timed_out"] >= 0.5
    confidence += 0.1 if timed_out else 0.0
    if change is not None:
        severity = "high"
    else:
        severity = "medium" if timed_out else "low"
        confidence = min(confidence, 0.35)

    signals = {str(r["signal"]): r for _, r in svc.iterrows()}
    evidence: dict[str, Any] = {
        "health_check_id": hc,
        "unhealthy_from": start,
        "unhealthy_for_s": float(first["duration_s"]),
        "min_status": first["min_status"],
        "min_percentage_healthy": first["min_percentage_healthy"],
        "service_signals_judged": int(len(judged)),
        "service_signals_healthy": int((judged["healthy"] == True).sum()),  # noqa: E712
    }
    if primary is not None:
        prow = shift[shift["load_balancer"] == primary].iloc[0]
        evidence.update({"primary_load_balancer": primary, "primary_requests_per_min_before": prow["before_per_min"],
                         "primary_requests_per_min_after": prow["after_per_min"]})
        others = shift[(shift["load_balancer"] != primary) & (shift["ratio"] > 1.2)]
        if not others.empty:
            o = others.iloc[-1]
            evidence.update({"traffic_moved_to": o["load_balancer"], "secondary_requests_per_min_before": o["before_per_min"],
                             "secondary_requests_per_min_after": o["after_per_min"]})
    for name in ("error_rate", "unhealthy_hosts", "latency_p99_s", "requests_per_min", "apigw_error_rate", "lambda_error_rate"):
        if name in signals:
            evidence[f"{name}_before"] = signals[name]["before"]
            evidence[f"{name}_at_drop"] = signals[name]["during"]
    if change is not None:
        evidence.update(related_evidence(change))
        evidence.update({"minutes_before_drop": lag_min, "change_port_matches_check": port_match})
    evidence.update({"checked_port": port, "checked_port_from": port_source, "checkers": checkers["checkers"],
                     "checkers_reporting_failure": checkers["checkers_failed"],
                     "failed_checker_observations": checkers["failed_observations"],
                     "share_failures_timed_out": checkers["share_timed_out"]})
    region = None
    if change is not None:
        m = _REGION.search(str(change.get("detail", "") or ""))
        region = m.group(1) if m else None
    labels = {"error_rate": ("5XX rate", lambda v: pct(v, 2)), "apigw_error_rate": ("API Gateway 5XX rate", lambda v: pct(v, 2)),
              "lambda_error_rate": ("Lambda error rate", lambda v: pct(v, 2)), "unhealthy_hosts": ("unhealthy hosts", lambda v: f"{v:.0f}"),
              "latency_p99_s": ("P99 latency", lambda v: f"{v:.2f} s")}
    svc_text = ", ".join(
        f"{labels[n][0]} {labels[n][1](signals[n]['during'])} (hour before {labels[n][1](signals[n]['before'])})"
        for n in labels if n in signals and pd.notna(signals[n]["during"]) and pd.notna(signals[n]["before"])
    )
    reference = inputs.window.start if inputs.window is not None else None
    summary = (_blocked_summary(first, hc, svc_text, change, port_match, port, checkers, timed_out, reference)
               + _failover_text(evidence, inputs.settings, hc))
    where = (f"security group {change.get('target')}" if change is not None and str(change.get("target", "")).startswith("sg-")
             else "the endpoint's security group / NACL")
    remediation = [
        f"Let the Route 53 health checkers back in: in {where}, allow TCP {port if port is not None else '<checked port>'} from "
        f"the AWS-managed prefix list com.amazonaws.{region or '<region>'}.route53-healthchecks (or the ROUTE53_HEALTHCHECKS "
        "ranges of ip-ranges.json); `incidentkit audit` checks this.",
        (f"Review and revert the change: {change['description']}." if change is not None
         else "Find the change that cut the checkers off: CloudTrail security-group, NACL and WAF calls before the drop."),
        "Fail back only once the checkers report healthy again, and make failover harder to trigger by a blocked path alone: "
        "a calculated health check, or one tied to a CloudWatch alarm on the service's own 5XX rate and latency.",
        "Change security groups through IaC (CloudFormation change sets / terraform plan) with a check that health-checker "
        "access survives, and size or warm the secondary region so that a failover does not overload it.",
    ]
    return Finding(
        id="healthcheck-blocked-by-change",
        title="Route 53 health checkers blocked by a security change" if change is not None
        else "Route 53 health check failed while the service looked healthy",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=round(min(0.95, confidence), 3),
        related_changes=related,
        onset=iso_z(start),
    )
