"""Route 53 health checks: when a check went unhealthy, what the service said then, what the checkers saw.

A Route 53 health check fails when a security-group, NACL or WAF change stops its checkers from
reaching an endpoint that is, by its own metrics, perfectly healthy — and DNS failover then moves
all traffic away. These analyses tell that apart from a service that really failed:

* :func:`route53_drops` — runs of ``HealthCheckStatus`` (or ``HealthCheckPercentageHealthy``) below healthy;
* :func:`traffic_by_load_balancer` — each load balancer's request rate before and after a moment
  (where the traffic went after a failover);
* :func:`service_signals` — the service's own error rate, unhealthy hosts, latency and traffic around a
  moment, each judged healthy or not against the hour before;
* :func:`checker_failures` — what the checkers reported: timeouts look like a firewall, HTTP 5xx like the service;
* :func:`metric_sum` — one metric summed at the load-balancer level.

The finding built on them (``healthcheck-blocked-by-change``) is in :mod:`incidentkit.findings.detectors`.
:mod:`.healthchecks` re-exports these names (they lived there before).

Example
-------
>>> import pandas as pd
>>> ts = pd.date_range("2026-03-01T14:00Z", periods=6, freq="1min")
>>> m = pd.DataFrame({"timestamp": ts, "namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
...     "dimensions": '{"HealthCheckId":"hc-1"}', "stat": "Minimum", "period": 60, "value": [1, 1, 0, 0, 0, 1]})
>>> route53_drops(m)[["health_check_id", "duration_s"]].to_dict("records")
[{'health_check_id': 'hc-1', 'duration_s': 180.0}]
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import pandas as pd

from ._common import (UTC_NS, as_utc, dimension, empty_table, episode_table, load_balancer_level, metric_period, select_metric,
                      sum_between, true_runs, values_between)

__all__ = ["DROP_COLUMNS", "SERVICE_COLUMNS", "route53_drops", "metric_sum", "traffic_by_load_balancer", "service_signals",
           "checker_failures"]

#: Route 53 calls an endpoint healthy while more than 18 % of its checkers do.
ROUTE53_HEALTHY_PCT = 18.0
#: Columns of :func:`route53_drops`.
DROP_COLUMNS = ("health_check_id", "start", "end", "duration_s", "min_status", "min_percentage_healthy", "ongoing")
#: Columns of :func:`service_signals`.
SERVICE_COLUMNS = ("signal", "before", "during", "ratio", "healthy")
_TIMEOUT_TEXT = re.compile(r"(?i)timed out|timeout|blocked by your firewall")
_REFUSED_TEXT = re.compile(r"(?i)connection refused|refused")
_HTTP_FAIL_TEXT = re.compile(r"(?i)HTTP Status Code:?\s*[45]\d\d|status code [45]\d\d")


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
    base = base.assign(hc=dimension(base, "HealthCheckId"))
    sh = share.assign(hc=dimension(share, "HealthCheckId")) if not share.empty else share
    rows = []
    for hc, grp in base.groupby("hc", sort=False):
        series = grp.groupby("timestamp", as_index=False).agg(value=("value", "min"), period=("period", "max")).sort_values("timestamp")
        v = series["value"].to_numpy(dtype=float)
        flags = v < 1.0 if by_status else v <= ROUTE53_HEALTHY_PCT
        times = series["timestamp"].reset_index(drop=True)
        period = metric_period(series)
        mine = sh[sh["hc"] == hc] if not sh.empty else sh
        for a, b in true_runs(times, flags, period):
            start, end = times[a], times[b] + period
            pw = values_between(mine, start, end)
            rows.append({"health_check_id": hc, "start": start, "end": end, "duration_s": (end - start).total_seconds(),
                         "min_status": float(v[a: b + 1].min()) if by_status else float("nan"),
                         "min_percentage_healthy": float(pw.min()) if len(pw) else (float(v[a: b + 1].min()) if not by_status else float("nan")),
                         "ongoing": b == len(v) - 1})
    return episode_table(rows, DROP_COLUMNS, dt)


def metric_sum(metrics: pd.DataFrame | None, ns: str, names: Sequence[str], stat: str | Sequence[str]) -> pd.DataFrame:
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
    lbs = dimension(metrics, "LoadBalancer", None)
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
    req = req.assign(lb=dimension(req, "LoadBalancer"))
    at = pd.Timestamp(at)
    b0, b1 = at - pd.Timedelta(lead) - pd.Timedelta(before), at - pd.Timedelta(lead)
    a0, a1 = at + pd.Timedelta(settle), at + pd.Timedelta(settle) + pd.Timedelta(after)
    rows = []
    covered_until = req["timestamp"].max() + metric_period(req)
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

    def rate(num: pd.DataFrame, den: pd.DataFrame, name: str) -> None:
        if num.empty or den.empty:
            return
        nb, db_ = sum_between(num, b0, b1), sum_between(den, b0, b1)
        nd, dd = sum_between(num, d0, d1), sum_between(den, d0, d1)
        rb = nb / db_ if db_ > 0 else float("nan")
        rd = nd / dd if dd > 0 else float("nan")
        if math.isnan(rd):
            rows.append({"signal": name, "before": rb, "during": rd, "ratio": float("nan"), "healthy": pd.NA})
            return
        base = 0.0 if math.isnan(rb) else rb
        ok = rd <= max(2 * base, base + 0.01)
        rows.append({"signal": name, "before": rb, "during": rd, "ratio": rd / rb if rb and rb > 0 else float("nan"), "healthy": bool(ok)})

    elb_err = metric_sum(metrics, "AWS/ApplicationELB", ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"), "Sum")
    elb_req = metric_sum(metrics, "AWS/ApplicationELB", ("RequestCount",), "Sum")
    rate(elb_err, elb_req, "error_rate")
    rate(metric_sum(metrics, "AWS/ApiGateway", ("5XXError", "5xx"), "Sum"), metric_sum(metrics, "AWS/ApiGateway", ("Count",), "Sum"), "apigw_error_rate")
    rate(metric_sum(metrics, "AWS/Lambda", ("Errors",), "Sum"), metric_sum(metrics, "AWS/Lambda", ("Invocations",), "Sum"), "lambda_error_rate")
    uh = select_metric(metrics, "AWS/ApplicationELB", "UnHealthyHostCount", ("Maximum", "Average"))
    if not uh.empty:
        uh = load_balancer_level(uh).groupby("timestamp", as_index=False)["value"].sum()
        vb, vd = values_between(uh, b0, b1), values_between(uh, d0, d1)
        if len(vd):
            before_max = float(vb.max()) if len(vb) else 0.0
            rows.append({"signal": "unhealthy_hosts", "before": before_max, "during": float(vd.max()), "ratio": float("nan"),
                         "healthy": bool(float(vd.max()) <= before_max)})
    lat = select_metric(metrics, "AWS/ApplicationELB", "TargetResponseTime", ("p99", "p99.9", "Average"))
    if not lat.empty:
        lat = lat.groupby("timestamp", as_index=False)["value"].max()
        vb, vd = values_between(lat, b0, b1), values_between(lat, d0, d1)
        if len(vd) and len(vb):
            ratio = float(vd.median()) / float(vb.median()) if float(vb.median()) > 0 else float("nan")
            rows.append({"signal": "latency_p99_s", "before": float(vb.median()), "during": float(vd.median()), "ratio": ratio,
                         "healthy": bool(math.isnan(ratio) or ratio <= 2.0)})
    if not elb_req.empty:
        per_min_b = sum_between(elb_req, b0, b1) / max(1.0, before_td.total_seconds() / 60)
        per_min_d = sum_between(elb_req, d0, d1) / max(1.0, (d1 - d0).total_seconds() / 60)
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
