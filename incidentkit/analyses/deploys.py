"""Deployments: errors that come with deploys, requests longer than the deregistration delay, half-applied changes.

When a load balancer deregisters a target (every blue/green or rolling deploy), it keeps the
target's in-flight requests for ``deregistration_delay.timeout_seconds`` and then cuts them:
any request slower than the delay ends in a 502. The signature is a burst of ELB 502s right
after each deployment and request durations (or ``TargetResponseTime`` maxima) beyond the
delay. A change made by a person or a script outside infrastructure-as-code can also fail
halfway — a security-group rule revoked, its replacement refused — and nothing rolls it back.

Analyses (pure functions on the kit's frames):

* :func:`deployments` — DEPLOYMENT changes grouped into deploy episodes.
* :func:`deploy_impact` and :func:`deploy_alignment` — errors (ELB 502s by default) in the
  minutes after each deploy against the minutes before, and the share of all errors that
  fall after deploys against the share of time those minutes cover (lift and a binomial test
  over the minutes with errors).
* :func:`durations_vs_deregistration` — per target group, the slowest requests (request log
  latencies and/or ``TargetResponseTime`` maxima) against the deregistration delay.
* :func:`change_runs` — runs of changes by one actor, with failed calls, whether the actor is
  infrastructure-as-code, and whether anything later undid or completed the run (in
  :mod:`.change_runs`, re-exported here).

The findings built on them (``deregistration-delay-too-short``, ``partial-change-no-rollback``) are in
:mod:`incidentkit.findings.detectors`.

Example
-------
>>> import pandas as pd
>>> changes = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z", "2026-03-05T10:01Z", "2026-03-05T16:00Z"]),
...     "event_name": ["CreateDeployment", "DeregisterTargets", "CreateDeployment"], "class": "DEPLOYMENT",
...     "actor": "arn:aws:iam::1:role/pipeline", "resource": "web", "error_code": None})
>>> deployments(changes)["events"].tolist()
[2, 1]
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import (
    as_utc,
    binom_sf,
    empty_table,
    load_balancer_level,
    parse_dims,
    select_metric,
    tg_matches,
)
from .change_runs import CHANGE_RUN_COLUMNS, INVERSE_VERBS, as_text, change_rows, change_runs, split_verb

__all__ = [
    "DEPLOYMENT_COLUMNS",
    "DEPLOY_IMPACT_COLUMNS",
    "DEREG_COLUMNS",
    "CHANGE_RUN_COLUMNS",
    "MAX_DEREGISTRATION_DELAY_S",
    "deployments",
    "error_series",
    "deploy_impact",
    "deploy_alignment",
    "durations_vs_deregistration",
    "change_runs",
    "INVERSE_VERBS",
    "change_rows",
    "split_verb",
    "as_text",
]

UTC_NS = "datetime64[ns, UTC]"
#: AWS allows 0-3600 s for ``deregistration_delay.timeout_seconds`` (default 300).
MAX_DEREGISTRATION_DELAY_S = 3600

DEPLOYMENT_COLUMNS = ("start", "end", "events", "event_names", "actors", "resources")
DEPLOY_IMPACT_COLUMNS = (
    "start",
    "end",
    "event_names",
    "resources",
    "errors_before",  # errors in the same length of time before the deploy
    "errors_after",  # errors from the deploy's start to ``after`` past its last event
    "requests_after",
    "error_rate_after",
    "error_rate_before",
    "lift",  # error_rate_after / error_rate_before (errors_after / errors_before without requests)
)
DEREG_COLUMNS = (
    "target_group",
    "deregistration_delay_s",
    "requests",
    "p99_s",
    "p999_s",
    "max_s",
    "requests_longer_than_delay",
    "share_longer_than_delay",
    "metric_max_s",  # highest TargetResponseTime (Maximum, else p99.9 / p99) of a bin
    "metric_bins_longer_than_delay",
    "slowest_s",
    "recommended_delay_s",
)



# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------




# ---------------------------------------------------------------------------------------------
# deployments and errors
# ---------------------------------------------------------------------------------------------


def deployments(changes: pd.DataFrame | None, *, merge: str | pd.Timedelta = "15min") -> pd.DataFrame:
    """DEPLOYMENT changes grouped into deploy episodes.

    A blue/green deploy is many calls (CreateDeployment, RegisterTargets, DeregisterTargets,
    UpdateService ...): calls less than ``merge`` apart are one episode. Failed calls and dry
    runs are left out.

    Returns
    -------
    pandas.DataFrame
        :data:`DEPLOYMENT_COLUMNS`, in time order; ``end`` is the last call's time.

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z", "2026-03-05T10:03Z"]),
    ...     "event_name": ["CreateDeployment", "DeregisterTargets"], "class": "DEPLOYMENT", "error_code": None})
    >>> deployments(ch)[["events", "event_names"]].values.tolist()
    [[2, 'CreateDeployment, DeregisterTargets']]
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "events": "int64"}
    df = change_rows(changes)
    if df.empty:
        return empty_table(DEPLOYMENT_COLUMNS, dt)
    ok = df["error_code"].fillna("").str.len() == 0
    dep = df[(df["class"] == "DEPLOYMENT").fillna(False) & ok]
    if dep.empty:
        return empty_table(DEPLOYMENT_COLUMNS, dt)
    gap = pd.Timedelta(merge)
    group = (dep["timestamp"].diff() > gap).cumsum()
    rows = []
    for _, g in dep.groupby(group, sort=True):
        rows.append({
            "start": g["timestamp"].iloc[0],
            "end": g["timestamp"].iloc[-1],
            "events": int(len(g)),
            "event_names": ", ".join(dict.fromkeys(g["event_name"].fillna("?"))),
            "actors": ", ".join(dict.fromkeys(g["actor"].dropna())),
            "resources": ", ".join(dict.fromkeys(g["resource"].dropna())),
        })
    out = pd.DataFrame(rows, columns=list(DEPLOYMENT_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    return out


def error_series(
    metrics: pd.DataFrame | None = None,
    requests: pd.DataFrame | None = None,
    *,
    metric: str | Sequence[str] = ("HTTPCode_ELB_502_Count",),
    status: Sequence[int] = (502,),
    bin: str | pd.Timedelta = "1min",
) -> pd.DataFrame:
    """Errors and requests per time bin, from load-balancer metrics or from request rows.

    ``metric`` (``AWS/ApplicationELB``, Sum, all load balancers added up) is used when the
    metrics have it, with ``RequestCount`` as the denominator; otherwise requests whose
    ``status`` is in ``status`` are counted per ``bin``.

    Returns
    -------
    pandas.DataFrame
        ``timestamp, errors, requests, period`` (requests NaN when unknown); ``df.attrs["source"]``
        names the source.

    Example
    -------
    >>> import pandas as pd
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00:10Z", "2026-03-05T10:00:20Z"]), "status": [200, 502]})
    >>> error_series(requests=req)[["errors", "requests"]].values.tolist()
    [[1.0, 2.0]]
    """
    names = [metric] if isinstance(metric, str) else list(metric)
    err = load_balancer_level(select_metric(metrics, "AWS/ApplicationELB", names, "Sum"))
    if not err.empty:
        e = err.groupby("timestamp", as_index=False).agg(errors=("value", "sum"), period=("period", "max"))
        req = load_balancer_level(select_metric(metrics, "AWS/ApplicationELB", "RequestCount", "Sum"))
        if not req.empty:
            r = req.groupby("timestamp", as_index=False).agg(requests=("value", "sum"))
            e = e.merge(r, on="timestamp", how="outer")
            e["errors"] = e["errors"].fillna(0.0)
            e["period"] = e["period"].fillna(e["period"].max())
        else:
            e["requests"] = np.nan
        e = e.sort_values("timestamp", ignore_index=True)
        e["period"] = pd.to_numeric(e["period"], errors="coerce").astype(float)
        e.attrs["source"] = f"metrics:{'+'.join(names)}"
        return e[["timestamp", "errors", "requests", "period"]]
    if requests is not None and not requests.empty and {"timestamp", "status"} <= set(requests.columns):
        width = pd.Timedelta(bin)
        ts = as_utc(requests["timestamp"]).dt.floor(width)
        st = pd.to_numeric(requests["status"], errors="coerce")
        df = pd.DataFrame({"timestamp": ts, "err": st.isin(list(status)).astype(float), "one": 1.0})
        g = df.groupby("timestamp", as_index=False).agg(errors=("err", "sum"), requests=("one", "sum"))
        full = pd.DataFrame({"timestamp": pd.date_range(g["timestamp"].min(), g["timestamp"].max(), freq=width)})
        g = full.merge(g, on="timestamp", how="left").fillna({"errors": 0.0, "requests": 0.0})
        g["period"] = width.total_seconds()
        g.attrs["source"] = "requests:status " + ",".join(map(str, status))
        return g[["timestamp", "errors", "requests", "period"]]
    out = pd.DataFrame({"timestamp": pd.Series([], dtype=UTC_NS), "errors": pd.Series([], dtype=float),
                        "requests": pd.Series([], dtype=float), "period": pd.Series([], dtype=float)})
    out.attrs["source"] = None
    return out


def _errors_for(inputs_metrics: pd.DataFrame | None, requests: pd.DataFrame | None) -> pd.DataFrame:
    series = error_series(inputs_metrics, requests)
    if series.empty or series["errors"].sum() == 0:
        alt = error_series(inputs_metrics, requests, metric=("HTTPCode_ELB_5XX_Count",), status=tuple(range(500, 600)))
        if not alt.empty and (series.empty or alt["errors"].sum() > 0):
            return alt
    return series


_DEREGISTRATION_EVENTS = re.compile(r"^(?:DeregisterTargets|DeleteTaskSet|UpdateServicePrimaryTaskSet|DeregisterInstancesFromLoadBalancer)")


def _deregistrations(changes: pd.DataFrame | None) -> list[pd.Timestamp]:
    """Times targets left a load balancer (successful calls only)."""
    df = change_rows(changes)
    if df.empty:
        return []
    ok = df["error_code"].fillna("").str.len() == 0
    hit = df["event_name"].fillna("").str.contains(_DEREGISTRATION_EVENTS.pattern, regex=True) & ok
    return list(df.loc[hit.to_numpy(dtype=bool), "timestamp"])


def deploy_impact(
    changes: pd.DataFrame | None,
    *,
    metrics: pd.DataFrame | None = None,
    requests: pd.DataFrame | None = None,
    after: str | pd.Timedelta = "10min",
) -> pd.DataFrame:
    """Errors (ELB 502s, else 5XX) around each deploy episode: after it against the same span before.

    Returns
    -------
    pandas.DataFrame
        :data:`DEPLOY_IMPACT_COLUMNS`, one row per deploy episode (:func:`deployments`).

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z"]), "event_name": ["CreateDeployment"],
    ...     "class": "DEPLOYMENT", "error_code": None})
    >>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-05T09:40Z", periods=40, freq="1min"), "status": 200})
    >>> req.loc[21:23, "status"] = 502
    >>> float(deploy_impact(ch, requests=req).loc[0, "errors_after"])
    3.0
    """
    dt = {"start": UTC_NS, "end": UTC_NS}
    deps = deployments(changes)
    series = _errors_for(metrics, requests)
    if deps.empty or series.empty:
        return empty_table(DEPLOY_IMPACT_COLUMNS, dt)
    span = pd.Timedelta(after)
    rows = []
    for _, d in deps.iterrows():
        a0, a1 = d["start"], d["end"] + span
        b0, b1 = a0 - (a1 - a0), a0
        after_sel = (series["timestamp"] >= a0) & (series["timestamp"] < a1)
        before_sel = (series["timestamp"] >= b0) & (series["timestamp"] < b1)
        ea, eb = float(series.loc[after_sel, "errors"].sum()), float(series.loc[before_sel, "errors"].sum())
        ra, rb = float(series.loc[after_sel, "requests"].sum(min_count=1)), float(series.loc[before_sel, "requests"].sum(min_count=1))
        rate_a = ea / ra if ra and not math.isnan(ra) else float("nan")
        rate_b = eb / rb if rb and not math.isnan(rb) else float("nan")
        if not math.isnan(rate_a) and not math.isnan(rate_b):
            lift = rate_a / rate_b if rate_b > 0 else (float("inf") if rate_a > 0 else float("nan"))
        else:
            lift = ea / eb if eb > 0 else (float("inf") if ea > 0 else float("nan"))
        rows.append({"start": a0, "end": d["end"], "event_names": d["event_names"], "resources": d["resources"],
                     "errors_before": eb, "errors_after": ea, "requests_after": ra, "error_rate_after": rate_a,
                     "error_rate_before": rate_b, "lift": lift})
    out = pd.DataFrame(rows, columns=list(DEPLOY_IMPACT_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    return out


def deploy_alignment(
    changes: pd.DataFrame | None,
    *,
    metrics: pd.DataFrame | None = None,
    requests: pd.DataFrame | None = None,
    after: str | pd.Timedelta = "10min",
    anchor: str = "deploy",
) -> dict[str, Any]:
    """Are the errors concentrated right after deploys?

    Compares the share of all errors that fall within ``after`` of a deploy episode with the
    share of observed time those minutes cover. Errors come in bursts, so the significance test
    counts *minutes with unusually many errors* (above the 95th percentile of all minutes)
    rather than errors: ``p_value`` is the binomial probability of at least that many such
    minutes falling after deploys if they were placed at random.

    With ``anchor="deregistration"`` the windows start at each target deregistration
    (``DeregisterTargets``, ECS/CodeDeploy task-set swaps), one bin early, and last ``after``:
    that is when a too-short deregistration delay cuts requests. Without such events the deploy
    episodes are used.

    Returns
    -------
    dict
        ``deployments``, ``source``, ``anchor``, ``errors_total``, ``errors_near_deploys``,
        ``share_near_deploys``, ``time_share``, ``lift`` (share over time share),
        ``error_bins``, ``error_bins_near`` (minutes with unusually many errors), ``p_value``, ``error_rate_near_deploys`` and
        ``error_rate_elsewhere`` (errors over requests, when requests are known).

    Example
    -------
    >>> deploy_alignment(None)["deployments"]
    0
    """
    out: dict[str, Any] = {"deployments": 0, "source": None, "errors_total": 0.0, "errors_near_deploys": 0.0,
                           "share_near_deploys": float("nan"), "time_share": float("nan"), "lift": float("nan"),
                           "error_bins": 0, "error_bins_near": 0, "p_value": float("nan"),
                           "error_rate_near_deploys": float("nan"), "error_rate_elsewhere": float("nan")}
    deps = deployments(changes)
    series = _errors_for(metrics, requests)
    out["deployments"] = int(len(deps))
    out["source"] = series.attrs.get("source")
    out["anchor"] = "deploy"
    if deps.empty or series.empty:
        return out
    span = pd.Timedelta(after)
    period = pd.Timedelta(seconds=float(series["period"].median()) if series["period"].notna().any() else 60.0)
    windows = [(d["start"], d["end"] + span) for _, d in deps.iterrows()]
    if anchor == "deregistration":
        times = _deregistrations(changes)
        if len(times):
            windows = [(t - period, t + span) for t in times]
            out["anchor"] = "deregistration"
    near = pd.Series(False, index=series.index)
    for a, b in windows:
        near |= (series["timestamp"] >= a) & (series["timestamp"] < b)
    total = float(series["errors"].sum())
    near_err = float(series.loc[near, "errors"].sum())
    time_share = float(near.mean())
    # minutes with *unusually many* errors: above the 95th percentile of all minutes, so a steady
    # trickle does not count and a burst counts once per minute, not once per error
    heavy_at = float(series["errors"].quantile(0.95))
    bins = series["errors"] > heavy_at
    n, k = int(bins.sum()), int((bins & near).sum())
    out.update({"errors_total": total, "errors_near_deploys": near_err, "time_share": time_share,
                "error_bins": n, "error_bins_near": k})
    if total > 0:
        out["share_near_deploys"] = near_err / total
        out["lift"] = (near_err / total) / time_share if time_share > 0 else float("nan")
        out["p_value"] = binom_sf(k, n, time_share) if 0 < time_share < 1 else float("nan")
    req_near = float(series.loc[near, "requests"].sum(min_count=1))
    req_else = float(series.loc[~near, "requests"].sum(min_count=1))
    if req_near and not math.isnan(req_near):
        out["error_rate_near_deploys"] = near_err / req_near
    if req_else and not math.isnan(req_else):
        out["error_rate_elsewhere"] = (total - near_err) / req_else
    return out


# ---------------------------------------------------------------------------------------------
# deregistration delay
# ---------------------------------------------------------------------------------------------


def _delays(settings: pd.DataFrame | None) -> list[tuple[str, float]]:
    if settings is None or settings.empty or "value" not in settings.columns:
        return []
    key = "setting" if "setting" in settings.columns else ("key" if "key" in settings.columns else None)
    if key is None:
        return []
    rows = settings[settings[key].astype("string").str.lower().eq("deregistration_delay.timeout_seconds").fillna(False).to_numpy(dtype=bool)]
    out = []
    for _, r in rows.iterrows():
        v = pd.to_numeric(pd.Series([r["value"]]), errors="coerce").iloc[0]
        if pd.notna(v):
            out.append((as_text(r.get("resource_id", "")), float(v)))
    return out


def _recommended_delay(slowest_s: float, current_s: float) -> float:
    want = math.ceil(slowest_s * 1.5 / 5.0) * 5.0
    return float(min(MAX_DEREGISTRATION_DELAY_S, max(want, current_s)))


def durations_vs_deregistration(
    settings: pd.DataFrame | None,
    *,
    requests: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The slowest requests of each target group against its ``deregistration_delay.timeout_seconds``.

    Request durations come from ``requests["latency_ms"]`` (what the caller waited; the
    request rows do not say which target group served them, so they are set against every
    target group) and from ``TargetResponseTime`` per target group (Maximum preferred, else
    p99.9, p99): a bin whose maximum exceeds the delay held a request that a deregistration
    would have cut.

    Returns
    -------
    pandas.DataFrame
        :data:`DEREG_COLUMNS`; ``recommended_delay_s`` is the slowest duration × 1.5, rounded up
        to 5 s, at most 3600 s (AWS's limit) and never below the current delay.

    Example
    -------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"resource_id": ["arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/api/9"],
    ...                   "setting": ["deregistration_delay.timeout_seconds"], "value": ["30"]})
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z"] * 3), "latency_ms": [120.0, 900.0, 61000.0]})
    >>> row = durations_vs_deregistration(s, requests=req).iloc[0]
    >>> float(row["slowest_s"]), int(row["requests_longer_than_delay"]), float(row["recommended_delay_s"])
    (61.0, 1, 95.0)
    """
    delays = _delays(settings)
    if not delays:
        return empty_table(DEREG_COLUMNS)
    lat = pd.Series([], dtype=float)
    if requests is not None and not requests.empty and "latency_ms" in requests.columns:
        lat = pd.to_numeric(requests["latency_ms"], errors="coerce").dropna() / 1000.0
    rt = select_metric(metrics, "AWS/ApplicationELB", "TargetResponseTime", ("Maximum", "p99.9", "p99"))
    rows = []
    for rid, delay in delays:
        mine = rt[rt["dimensions"].map(lambda d: tg_matches(rid, parse_dims(d).get("TargetGroup", ""))).to_numpy(dtype=bool)] if not rt.empty else rt
        metric_max = float(mine["value"].max()) if not mine.empty else float("nan")
        metric_longer = int((mine["value"] > delay).sum()) if not mine.empty else 0
        n = int(len(lat))
        longer = int((lat > delay).sum()) if n else 0
        req_max = float(lat.max()) if n else float("nan")
        slowest = float(np.nanmax([req_max, metric_max])) if not (math.isnan(req_max) and math.isnan(metric_max)) else float("nan")
        rows.append({
            "target_group": rid,
            "deregistration_delay_s": delay,
            "requests": n,
            "p99_s": float(lat.quantile(0.99)) if n else float("nan"),
            "p999_s": float(lat.quantile(0.999)) if n else float("nan"),
            "max_s": req_max,
            "requests_longer_than_delay": longer,
            "share_longer_than_delay": longer / n if n else float("nan"),
            "metric_max_s": metric_max,
            "metric_bins_longer_than_delay": metric_longer,
            "slowest_s": slowest,
            "recommended_delay_s": _recommended_delay(slowest, delay) if not math.isnan(slowest) else float("nan"),
        })
    return pd.DataFrame(rows, columns=list(DEREG_COLUMNS))
