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
  checkers reported: in :mod:`.route53`, re-exported here.

The findings built on them (``health-check-flapping``, ``healthcheck-blocked-by-change``) are in
:mod:`incidentkit.findings.detectors`.

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
from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    metric_period,
    true_runs,
    sum_between,
    as_utc,
    empty_table,
    episode_table,
    parse_dims,
    select_metric,
    tg_matches,
)

# the Route 53 analyses lived here before they got their module; their names stay reachable from here
from .route53 import (DROP_COLUMNS, SERVICE_COLUMNS, checker_failures, metric_sum, route53_drops, service_signals,
                      traffic_by_load_balancer)

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
    "CHECK_TOLERANCE_FLOOR_S",
    "REGION_IN_TEXT",
    "REMOVES_ACCESS",
    "resolution_text",
    "settings_table",
    "metric_sum",
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

#: The shortest failure a health check should outlast: one default ALB interval (30 s). Checks that pull a
#: target after less than that react to GC pauses and single slow requests, not to failures.
CHECK_TOLERANCE_FLOOR_S = 30.0
#: ALB defaults (HTTP target groups), used as the floor of recommendations.
ALB_DEFAULTS = {"interval_s": 30, "timeout_s": 5, "healthy_threshold": 5, "unhealthy_threshold": 2}

_SECURITY_EVENT = re.compile(
    r"SecurityGroup|NetworkAcl|WebACL|IPSet|RuleGroup|FirewallPolicy|PrefixList|SetSecurityGroups|ModifyNetworkInterfaceAttribute"
)
REMOVES_ACCESS = re.compile(r"^(Revoke|Delete|Replace|Modify|Update|Set|Disassociate)")
_PORT = re.compile(r"\"?(?:fromPort|FromPort|from_port)\"?\s*[:=]\s*\"?(-?\d+)")
_TO_PORT = re.compile(r"\"?(?:toPort|ToPort|to_port)\"?\s*[:=]\s*\"?(-?\d+)")
REGION_IN_TEXT = re.compile(r"\"region\"\s*:\s*\"([a-z]{2}(?:-gov)?-[a-z]+-\d)\"")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _without_az(df: pd.DataFrame) -> pd.DataFrame:
    """Prefer datapoints without an AvailabilityZone dimension (group totals) when both exist."""
    if df.empty:
        return df
    has_az = df["dimensions"].map(lambda d: "AvailabilityZone" in parse_dims(d))
    if has_az.all() or not has_az.any():
        return df
    return df.loc[~has_az.to_numpy(dtype=bool)]


def settings_table(settings: pd.DataFrame | None) -> pd.DataFrame:
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
        period = metric_period(series)
        values = series["value"].to_numpy(dtype=float)
        if derived:
            values = np.nanmax(values) - values
        hh = healthy[healthy["dimensions"].map(lambda d: parse_dims(d).get("TargetGroup", "(all)") == tg).to_numpy(dtype=bool)] if not healthy.empty else healthy
        lb_502 = e502[e502["dimensions"].map(lambda d: not lb or parse_dims(d).get("LoadBalancer", lb) == lb).to_numpy(dtype=bool)] if not e502.empty else e502
        lb_502 = lb_502.groupby("timestamp", as_index=False)["value"].sum() if not lb_502.empty else lb_502
        times = series["timestamp"].reset_index(drop=True)
        for a, b in true_runs(times, values > 0, period):
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
                    "elb_502": sum_between(lb_502, start, end),
                    "ongoing": b == len(values) - 1,
                    "resolution_s": period.total_seconds(),
                }
            )
    return episode_table(rows, EPISODE_COLUMNS, dt)


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
        period = metric_period(series)
        times = series["timestamp"].reset_index(drop=True)
        d = parse_dims(dims)
        resource = next((d[k] for k in ("InstanceId", "TargetGroup", "AutoScalingGroupName", "ServiceName") if k in d), "(all)")
        for a, b in true_runs(times, flags, period):
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


def resolution_text(seconds: float) -> str:
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
    st = settings_table(settings)
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
            reasons = _tight_reasons(kind, interval, timeout, unhealthy, peak, longest_spike_s, spike_resolution_s)
            rec_interval, rec_timeout, rec_unhealthy, rec_healthy = _recommended(kind, interval, timeout, unhealthy, peak,
                                                                                 longest_spike_s)
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


def _tight_reasons(kind: str, interval: float, timeout: float, unhealthy: float, peak: float,
                   longest_spike_s: float | None, spike_resolution_s: float | None) -> list[str]:
    """Why a check is tight (:func:`check_timing`): a timeout at or below the peak P99, failed checks that add up to
    less than the longest spike (or :data:`CHECK_TOLERANCE_FLOOR_S`), a timeout not below the interval."""
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
    return reasons


def _recommended(kind: str, interval: float, timeout: float, unhealthy: float, peak: float,
                 longest_spike_s: float | None) -> tuple[float, float, float, float]:
    """The recommended interval, timeout, unhealthy and healthy thresholds (:func:`check_timing`)."""
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
    return rec_interval, rec_timeout, rec_unhealthy, rec_healthy
