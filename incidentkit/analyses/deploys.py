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
  infrastructure-as-code, and whether anything later undid or completed the run.

Detectors: :func:`detect_deregistration_delay_too_short` (``deregistration-delay-too-short``)
and :func:`detect_partial_change_no_rollback` (``partial-change-no-rollback``).

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

import json
import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..findings.model import Finding, Inputs
from .impact import counted
from ._common import (
    as_utc,
    binom_sf,
    empty_table,
    iso_z,
    load_balancer_level,
    parse_dims,
    pct,
    select_metric,
    sentence_case,
    severity_for_share,
    tg_matches,
)
from ..fetch.change_detail import api_of
from .change_words import blameless_actor
from . import related as rel
from .related import ChangeSpec, related_changes, targets_from

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
    "detect_deregistration_delay_too_short",
    "detect_partial_change_no_rollback",
    "DEREGISTRATION_CHANGES",
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
CHANGE_RUN_COLUMNS = (
    "actor",
    "start",
    "end",
    "events",
    "failed",
    "event_names",
    "failed_events",
    "resources",
    "classes",
    "changed_by",  # iac | pipeline | aws-service | console | cli | sdk | other (from the change detail)
    "iac",
    "automation",  # an AWS service or CodeDeploy acting on its own
    "rolled_back",  # a later call undid every change the run applied
    "completed_later",  # the failed calls later succeeded on the same resources
    "observed_after_s",  # how long the timeline runs after the run ended
    "rows",  # positions of the run's changes in the input frame
)

_IAC = re.compile(r"(?i)cloudformation|terraform|hashicorp|pulumi|aws-cdk|\bcdk-|cfn-exec|crossplane|aws-sam-cli|serverless/")
_SERVICE_ACTOR = re.compile(r"(?i)AWSServiceRole|^[a-z0-9-]+\.amazonaws\.com$|codedeploy")
_DRY_RUN = frozenset({"Client.DryRunOperation", "DryRunOperation"})
_INVERSE_VERBS = {
    "Authorize": "Revoke", "Revoke": "Authorize", "Create": "Delete", "Delete": "Create", "Attach": "Detach",
    "Detach": "Attach", "Associate": "Disassociate", "Disassociate": "Associate", "Add": "Remove", "Remove": "Add",
    "Enable": "Disable", "Disable": "Enable", "Register": "Deregister", "Deregister": "Register", "Start": "Stop",
    "Stop": "Start", "Allocate": "Release", "Release": "Allocate", "Assign": "Unassign", "Unassign": "Assign",
    "Put": "Delete", "Import": "Delete", "Tag": "Untag", "Untag": "Tag",
}
_RESTORING_VERBS = ("Modify", "Update", "Replace", "Set", "Put")
_VERB = re.compile(r"^([A-Z][a-z]+)(.*?)(?:\d{8}(?:v\d+)?)?$")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _text(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _changes(changes: pd.DataFrame | None) -> pd.DataFrame:
    if changes is None or changes.empty or "timestamp" not in changes.columns:
        return pd.DataFrame(columns=["timestamp", "event_name", "class", "actor", "resource", "error_code", "detail", "source", "_row"])
    df = changes.reset_index(drop=True).copy()
    df["_row"] = np.arange(len(df))
    df["timestamp"] = as_utc(df["timestamp"])
    for c in ("event_name", "class", "actor", "resource", "error_code", "detail", "source"):
        if c not in df.columns:
            df[c] = pd.NA
        df[c] = df[c].astype("string")
    return df.dropna(subset=["timestamp"]).sort_values("timestamp", kind="stable")


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
    df = _changes(changes)
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
    df = _changes(changes)
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
            out.append((_text(r.get("resource_id", "")), float(v)))
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


# ---------------------------------------------------------------------------------------------
# runs of changes
# ---------------------------------------------------------------------------------------------


def _split_verb(name: str) -> tuple[str, str]:
    m = _VERB.match(name or "")
    if not m:
        return "", name or ""
    return m.group(1), m.group(2)


def _changed_by(actor: str, detail: str) -> str:
    try:
        d = json.loads(detail) if detail else {}
    except ValueError:
        d = {}
    kind = d.get("changed_by") if isinstance(d, dict) else None
    if kind:
        return str(kind)
    if _IAC.search(f"{actor} {detail}"):
        return "iac"
    if _SERVICE_ACTOR.search(actor or ""):
        return "aws-service"
    return "other"


def _undoes(later: pd.Series, applied: pd.Series) -> bool:
    """Does ``later`` (a successful change) undo ``applied`` on the same resource?"""
    if _text(later["resource"]) != _text(applied["resource"]):
        return False
    verb, noun = _split_verb(_text(applied["event_name"]))
    lverb, lnoun = _split_verb(_text(later["event_name"]))
    if not verb:
        return False
    if verb in _RESTORING_VERBS:
        return lverb == verb and lnoun == noun
    inverse = _INVERSE_VERBS.get(verb)
    return inverse is not None and lverb == inverse and lnoun == noun


def change_runs(
    changes: pd.DataFrame | None,
    *,
    gap: str | pd.Timedelta = "10min",
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Runs of changes by one actor, with their failures and what happened after.

    A run is a sequence of changes by the same actor with less than ``gap`` between
    consecutive ones (a script, a console session, a stack update). For each run: the failed
    calls (``error_code`` set; dry runs excepted), how the changes were made (``changed_by``
    from the change detail, or CloudFormation/Terraform/CDK/Pulumi recognised in the actor or
    detail), whether later calls (by anyone) undid every change the run applied
    (``rolled_back``: Revoke after Authorize, Delete after Create, the same Modify again ...)
    or made the failed calls succeed (``completed_later``), and how long the timeline runs after
    it (``until``, default the last change).

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_RUN_COLUMNS`, in time order.

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-06T09:00:00Z", "2026-03-06T09:00:04Z"]),
    ...     "event_name": ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "class": "SECURITY_CHANGE",
    ...     "actor": "arn:aws:iam::1:user/deploy", "resource": "sg-1", "error_code": [None, "InvalidParameterValue"],
    ...     "detail": '{"changed_by":"cli"}'})
    >>> r = change_runs(ch).iloc[0]
    >>> int(r["events"]), int(r["failed"]), bool(r["iac"]), bool(r["rolled_back"])
    (2, 1, False, False)
    """
    dt = {"start": UTC_NS, "end": UTC_NS, "events": "int64", "failed": "int64", "iac": "bool", "automation": "bool",
          "rolled_back": "bool", "completed_later": "bool"}
    df = _changes(changes)
    if df.empty:
        return empty_table(CHANGE_RUN_COLUMNS, dt)
    df = df[~df["error_code"].fillna("").isin(list(_DRY_RUN))]
    if df.empty:
        return empty_table(CHANGE_RUN_COLUMNS, dt)
    horizon = pd.Timestamp(until) if until is not None else df["timestamp"].max()
    width = pd.Timedelta(gap)
    rows = []
    df = df.assign(_actor=df["actor"].fillna("(unknown)"))
    for actor, g in df.groupby("_actor", sort=False):
        g = g.sort_values("timestamp", kind="stable")
        run_id = (g["timestamp"].diff() > width).cumsum()
        for _, run in g.groupby(run_id, sort=True):
            failed_mask = run["error_code"].fillna("").str.len() > 0
            failed = run[failed_mask]
            applied = run[~failed_mask]
            end = run["timestamp"].iloc[-1]
            first_fail = failed["timestamp"].min() if len(failed) else None
            touched = set(run["resource"].fillna(""))
            later = df[(df["timestamp"] >= (first_fail if first_fail is not None else end))
                       & (df["error_code"].fillna("").str.len() == 0)
                       & df["resource"].fillna("").isin(touched)] if len(failed) else df.iloc[0:0]
            rolled_back = bool(len(applied)) and len(failed) > 0 and all(
                any(_undoes(lt, ap) for _, lt in later[later["timestamp"] > ap["timestamp"]].iterrows())
                for _, ap in applied.iterrows())
            completed = len(failed) > 0 and all(
                bool(((later["event_name"] == f["event_name"]) & (later["resource"].fillna("") == _text(f["resource"]))
                      & (later["timestamp"] > f["timestamp"])).any())
                for _, f in failed.iterrows())
            kinds = [_changed_by(_text(actor), _text(d)) for d in run["detail"]]
            kind = max(set(kinds), key=kinds.count)
            rows.append({
                "actor": actor,
                "start": run["timestamp"].iloc[0],
                "end": end,
                "events": int(len(run)),
                "failed": int(len(failed)),
                "event_names": ", ".join(run["event_name"].fillna("?")),
                "failed_events": ", ".join(f"{n} ({c})" for n, c in zip(failed["event_name"].fillna("?"), failed["error_code"])),
                "resources": ", ".join(dict.fromkeys(run["resource"].dropna())),
                "classes": ", ".join(dict.fromkeys(run["class"].dropna())),
                "changed_by": kind,
                "iac": kind == "iac",
                "automation": kind == "aws-service" or bool(_SERVICE_ACTOR.search(_text(actor))),
                "rolled_back": rolled_back,
                "completed_later": bool(completed),
                "observed_after_s": max(0.0, (horizon - end).total_seconds()),
                "rows": run["_row"].astype(int).tolist(),
            })
    out = pd.DataFrame(rows, columns=list(CHANGE_RUN_COLUMNS))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    for c in ("iac", "automation", "rolled_back", "completed_later"):
        out[c] = out[c].astype(bool)
    return out.sort_values("start", kind="stable", ignore_index=True)


# ---------------------------------------------------------------------------------------------
# detectors
# ---------------------------------------------------------------------------------------------


#: The changes that can explain ``deregistration-delay-too-short`` (see :mod:`.related`). A CodeDeploy or ECS
#: deployment rarely names the target group; it counts when it deregistered this group's targets (a
#: ``DeregisterTargets`` on the group within its episode), or when the timeline holds no target changes at all.
DEREGISTRATION_CHANGES = ChangeSpec("deregistration-delay-too-short", {
    "targets": "a deploy deregistered targets: requests still running when the delay ran out were cut",
    "target-group-attributes": "the deregistration delay was set",
    "deployment": "a deploy replaced the targets",
}, unscoped={"deployment": "24h"})
_EPISODE = pd.Timedelta("15min")


def _target_group_deploys(inputs: Inputs, tg: str) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """The changes of the target group's deploys (a frame for the alignment) and the related-change records.

    Another function's code update or another application's deployment is not a deploy of this group.
    """
    related = related_changes(inputs.changes, DEREGISTRATION_CHANGES, targets_from(tg, kind="target_group"), limit=500,
                              window=inputs.window)
    target_times = [pd.Timestamp(r["timestamp"]) for r in related if r["kind"] == "targets"]
    if target_times:  # a deployment that names no group counts when it moved this group's targets
        related = [r for r in related if r["match"] == "resource" or any(
            pd.Timedelta(0) <= t - pd.Timestamp(r["timestamp"]) <= _EPISODE for t in target_times)]
    if inputs.changes is None or inputs.changes.empty or not related:
        return (inputs.changes.iloc[0:0] if inputs.changes is not None else None), related
    keys = {(pd.Timestamp(r["timestamp"]), r["event_name"]) for r in related}
    ch = inputs.changes
    ts = as_utc(ch["timestamp"])
    sel = [(t, e) in keys for t, e in zip(ts, ch["event_name"] if "event_name" in ch.columns else [None] * len(ch))]
    related.sort(key=lambda r: pd.Timestamp(r["timestamp"]))
    return ch.loc[np.asarray(sel, dtype=bool)], related


def detect_deregistration_delay_too_short(inputs: Inputs) -> Finding | None:
    """``deregistration-delay-too-short``: requests outlive the deregistration delay and deploys cut them.

    Needs ``deregistration_delay.timeout_seconds`` in the settings and at least one request (or
    ``TargetResponseTime`` maximum) longer than it. With ELB 502s concentrated in the minutes
    after target deregistrations (from each ``DeregisterTargets`` to the delay + 2 min, at least
    3 min; whole deploy episodes when no deregistration is in the timeline) — at least 5 errors,
    lift ≥ 3 and p < 0.01 over the minutes with unusually many errors — it is the cause of those
    502s: severity from the error rate in those minutes (at least medium), confidence 0.55-0.95.
    Without that alignment it is a latent misconfiguration, reported low.

    Example
    -------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"resource_id": ["targetgroup/api/1"], "setting": ["deregistration_delay.timeout_seconds"], "value": ["30"]})
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z"] * 2), "latency_ms": [200.0, 64000.0]})
    >>> f = detect_deregistration_delay_too_short(Inputs(settings=s, requests=req))
    >>> f.severity, f.evidence["recommended_delay_s"]      # latent: no deploy in the window to confirm it
    ('low', 100.0)
    """
    requests = counted(inputs.requests)  # each request once, at the entry point when its log is there
    dd = durations_vs_deregistration(inputs.settings, requests=requests, metrics=inputs.metrics)
    if dd.empty:
        return None
    over = dd[(dd["slowest_s"] > dd["deregistration_delay_s"])
              & ((dd["requests_longer_than_delay"] > 0) | (dd["metric_bins_longer_than_delay"] > 0))]
    if over.empty:
        return None
    row = over.sort_values("slowest_s", ascending=False).iloc[0]
    delay = float(row["deregistration_delay_s"])
    deploy_changes, related = _target_group_deploys(inputs, str(row["target_group"]))
    # requests are cut when the delay runs out after a deregistration: look from then to 2 min past it
    after = pd.Timedelta(seconds=max(180.0, delay + 120.0))
    align = deploy_alignment(deploy_changes, metrics=inputs.metrics, requests=requests, after=after, anchor="deregistration")
    aligned = (align["deployments"] > 0 and align["errors_near_deploys"] >= 5 and not math.isnan(align["p_value"])
               and align["p_value"] < 0.01 and align["lift"] >= 3)
    slowest = float(row["slowest_s"])
    if aligned:
        confidence = 0.55 + 0.25 * min(1.0, align["share_near_deploys"])
        confidence += 0.1 if (row["requests_longer_than_delay"] >= 3 or row["metric_bins_longer_than_delay"] >= 3) else 0.0
        confidence += 0.05 if slowest >= 1.5 * delay else 0.0
        rate = align["error_rate_near_deploys"]
        severity = severity_for_share(rate) if not math.isnan(rate) else "medium"
        if severity in ("low", "info"):
            severity = "medium"
    else:
        confidence = 0.3 if align["deployments"] == 0 else 0.2
        severity = "low"
    impact = deploy_impact(deploy_changes, metrics=inputs.metrics, requests=requests)
    evidence: dict[str, Any] = {
        "target_group": row["target_group"],
        "deregistration_delay_s": delay,
        "slowest_request_s": slowest,
        "request_p99_s": row["p99_s"],
        "request_p999_s": row["p999_s"],
        "requests_longer_than_delay": int(row["requests_longer_than_delay"]),
        "share_requests_longer_than_delay": row["share_longer_than_delay"],
        "target_response_time_max_s": row["metric_max_s"],
        "bins_with_max_over_delay": int(row["metric_bins_longer_than_delay"]),
        "deployments": align["deployments"],
        "errors_source": align["source"],
        "errors_near_deploys": align["errors_near_deploys"],
        "errors_total": align["errors_total"],
        "share_errors_near_deploys": align["share_near_deploys"],
        "share_time_near_deploys": align["time_share"],
        "lift": align["lift"],
        "p_value": align["p_value"],
        "error_rate_near_deploys": align["error_rate_near_deploys"],
        "error_rate_elsewhere": align["error_rate_elsewhere"],
        "recommended_delay_s": row["recommended_delay_s"],
    }
    longer = (f"{int(row['requests_longer_than_delay'])} requests ({pct(row['share_longer_than_delay'], 2)}) took longer"
              if row["requests_longer_than_delay"] else f"{int(row['metric_bins_longer_than_delay'])} minutes had a TargetResponseTime maximum longer")
    summary = (f"The deregistration delay of {row['target_group']} is {delay:.0f} s, but the slowest request took {slowest:.0f} s: "
               f"{longer} than the delay. ")
    if aligned:
        where = (f"within {after.total_seconds() / 60:.0f} minutes of a target deregistration"
                 if align["anchor"] == "deregistration" else f"within {after.total_seconds() / 60:.0f} minutes of a deploy")
        summary += (f"{pct(align['share_near_deploys'], 0)} of the {align['errors_total']:.0f} ELB errors "
                    f"({align['source']}) fell {where} ({align['deployments']} deploys); those minutes cover "
                    f"{pct(align['time_share'], 1)} of the time (lift {align['lift']:.1f}, p={align['p_value']:.2g})"
                    + (f"; {pct(align['error_rate_near_deploys'], 2)} of requests failed after deploys against "
                       f"{pct(align['error_rate_elsewhere'], 3)} elsewhere" if not math.isnan(align["error_rate_near_deploys"]) else "")
                    + ". Each deploy deregisters the old targets and cuts their in-flight slow requests when the delay expires.")
    elif align["deployments"]:
        summary += f"The {align['deployments']} deploys in the window brought no burst of ELB errors, so the risk is latent."
    else:
        summary += "No deploy in the window to confirm it: the risk is latent, every deploy can cut requests that run longer."
    rec = row["recommended_delay_s"]
    remediation = [
        f"Set deregistration_delay.timeout_seconds above the slowest request: {rec:.0f} s (observed slowest {slowest:.0f} s × 1.5; "
        f"AWS allows up to 3600): aws elbv2 modify-target-group-attributes --target-group-arn {row['target_group']} "
        f"--attributes Key=deregistration_delay.timeout_seconds,Value={rec:.0f}",
        "Make long calls asynchronous (accept with 202 and a job id, poll or notify) so no request outlives a deploy.",
        "Let the old targets drain: stop them only after the delay (ECS stopTimeout and the app's graceful-shutdown timeout "
        "at least the delay, SIGTERM handled by finishing in-flight requests; CodeDeploy blue/green termination wait ≥ the delay).",
        "Alarm on HTTPCode_ELB_502_Count during deploys and pause the rollout when it rises.",
    ]
    return Finding(
        id="deregistration-delay-too-short",
        title="Deregistration delay shorter than the slowest requests: deploys cut them (502s)" if aligned
        else "Deregistration delay shorter than the slowest requests",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=round(min(0.95, confidence), 3),
        related_changes=related[:20],
        onset=iso_z(impact["start"].min()) if not impact.empty else None,
    )


def detect_partial_change_no_rollback(inputs: Inputs, *, gap: str | pd.Timedelta = "10min") -> Finding | None:
    """``partial-change-no-rollback``: a run of direct (non-IaC) changes failed midway and nothing undid it.

    Candidates are runs (:func:`change_runs`) with at least one applied and one failed change,
    made by a person or a script (not CloudFormation/Terraform/CDK, not an AWS service or
    CodeDeploy acting on its own), that nothing later rolled back or completed. Security-group,
    NACL and IAM runs are high severity (access lost or opened); others medium. Confidence
    grows with the time watched after the run without a fix (30 min or more: +0.15).

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-06T09:00:00Z", "2026-03-06T09:00:04Z"]),
    ...     "event_name": ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "class": "SECURITY_CHANGE",
    ...     "actor": "arn:aws:iam::1:user/deploy", "resource": "sg-1", "error_code": [None, "InvalidParameterValue"],
    ...     "detail": '{"changed_by":"cli"}'})
    >>> f = detect_partial_change_no_rollback(Inputs(changes=ch))
    >>> f.id, f.severity
    ('partial-change-no-rollback', 'high')
    """
    until = inputs.window.end if inputs.window is not None else None
    runs = change_runs(inputs.changes, gap=gap, until=until)
    if runs.empty:
        return None
    cand = runs[(runs["failed"] > 0) & (runs["events"] > runs["failed"]) & ~runs["iac"] & ~runs["automation"]
                & ~runs["rolled_back"] & ~runs["completed_later"]]
    if cand.empty:
        return None
    sec = cand["classes"].str.contains("SECURITY_CHANGE|IAM", regex=True)
    cand = cand.assign(_sec=sec).sort_values(["_sec", "events", "start"], ascending=[False, False, True])
    run = cand.iloc[0]
    security = bool(run["_sec"])
    confidence = 0.5
    confidence += 0.15 if security else 0.0
    watched = float(run["observed_after_s"])
    confidence += 0.15 if watched >= 1800 else (0.05 if watched >= 600 else 0.0)
    confidence += 0.1 if run["changed_by"] in ("console", "cli", "sdk", "other") else 0.0
    confidence -= 0.1 if run["changed_by"] == "pipeline" else 0.0
    severity = "high" if security else "medium"
    ch = _changes(inputs.changes)
    rows = ch[ch["_row"].isin(run["rows"])]
    applied = rows[rows["error_code"].fillna("").str.len() == 0]
    evidence: dict[str, Any] = {
        "actor": run["actor"],
        "changed_by": run["changed_by"],
        "run_start": run["start"],
        "run_end": run["end"],
        "changes_in_run": int(run["events"]),
        "failed_changes": int(run["failed"]),
        "applied_changes": int(run["events"] - run["failed"]),
        "failed": run["failed_events"],
        "applied": ", ".join(applied["event_name"].fillna("?")),
        "resources": run["resources"],
        "minutes_watched_after": watched / 60.0,
        "other_candidate_runs": int(len(cand) - 1),
    }
    failed_rows = rows[rows["error_code"].fillna("").str.len() > 0]
    failed_text = ", ".join(f"{api_of(r)} ({r['error_code']})" for r in failed_rows.to_dict("records"))
    summary = (f"{sentence_case(blameless_actor(run['actor']))} ({run['changed_by']}) made {int(run['events'])} changes to "
               f"{run['resources'] or 'resources'} between {iso_z(run['start'])} and {iso_z(run['end'])}: "
               f"{int(run['events'] - run['failed'])} applied, "
               f"{int(run['failed'])} failed ({failed_text}). No later call undid the applied changes or completed the "
               f"failed ones in the {watched / 60:.0f} minutes that follow: the resources are left half-changed"
               + (" — for security groups that means access lost (or opened) that nobody intended." if security else "."))
    restore = []
    for _, a in applied.iterrows():
        verb, noun = _split_verb(_text(a["event_name"]))
        inverse = _INVERSE_VERBS.get(verb)
        if inverse:
            restore.append(f"{inverse}{noun} on {_text(a['resource'])} (undoes {api_of(a)} at {iso_z(a['timestamp'])})")
        else:
            restore.append(f"restore the previous value of {api_of(a)} on {_text(a['resource'])}")
    remediation = [
        "Restore a known state now: " + "; ".join(restore[:5])
        + (" — e.g. aws ec2 authorize-security-group-ingress --group-id <sg> --ip-permissions <the rules revoked>, taken "
           "from the change's requestParameters." if security else "."),
        "Keep out-of-band access (SSM Session Manager, EC2 Instance Connect) so a security-group mistake cannot lock you out.",
        "Make such changes through IaC (CloudFormation change sets with automatic rollback, or terraform plan/apply) instead "
        "of scripts; a failed stack update rolls back as a whole.",
        "If a script is unavoidable: snapshot the current state first (describe-security-groups), apply with set -euo pipefail "
        "and a trap that re-applies the snapshot on error, and prefer additive changes (authorize the new rule before revoking the old).",
    ]
    return Finding(
        id="partial-change-no-rollback",
        title="Change run failed midway with no rollback" + (" (security groups)" if "SecurityGroup" in str(run["event_names"]) else ""),
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=round(min(0.95, confidence), 3),
        related_changes=rel.records(rows, reference=inputs.window.start if inputs.window is not None else None),
        onset=iso_z(run["start"]),
    )
