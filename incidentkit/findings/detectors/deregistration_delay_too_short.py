"""``deregistration-delay-too-short`` (incidents.md #10): deploys cut requests still in flight.

The cause: requests run longer than the target group's ``deregistration_delay.timeout_seconds``,
so when a deploy deregisters a target the load balancer closes them and clients get 502s. The
evidence read: the delay setting, request durations (or ``TargetResponseTime`` maxima), ELB 502s
(metrics or requests), the deploys in the change timeline and, when the load balancer's access log
was read, its per-request target fields (which targets failed, which 5XX had no response from a
target). It fires when requests outlive the delay; it names the 502s as caused by it when they
concentrate after deregistrations.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...analyses._common import as_utc, iso_z, pct, severity_for_share
from ...analyses.deploys import deploy_alignment, deploy_impact, durations_vs_deregistration
from ...analyses.impact import counted
from ...analyses.related import ChangeSpec, related_changes, targets_from
from ...analyses.targets import target_evidence, target_sentence
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, at_least

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "DEREGISTRATION_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "deregistration-delay-too-short"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "requests", "metrics", "changes", "settings", "logs")

#: A deployment that names no target group is this group's deploy when it deregistered the group's targets
#: within this long after it (a CodeDeploy or ECS deployment's steps).
DEPLOY_EPISODE = pd.Timedelta("15min")
#: After a deregistration, in-flight requests are cut when the delay runs out: look from then to the delay plus
#: this margin (the 502s of the cut requests land within a minute or two), and never less than the minimum.
CUT_MARGIN_S, MIN_LOOK_AFTER_S = 120.0, 180.0
#: The 502s are the deploys' when at least this many fall after deregistrations, this much more often than the
#: time those minutes cover predicts, at this significance (binomial test) — a statistical choice.
MIN_ALIGNED_ERRORS, MIN_LIFT, MAX_P = 5, 3.0, 0.01
#: Confidence when aligned: a base, plus up to 0.25 for the share of the errors that fall after deploys.
ALIGNED_BASE, NEAR_DEPLOY_WEIGHT = 0.55, 0.25
#: Several requests (or minutes of TargetResponseTime maxima) over the delay: not one outlier.
MANY_OVER, MANY_OVER_BONUS = 3, 0.1
#: The slowest request is well past the delay (this multiple): no rounding of the delay saves it.
WELL_PAST_FACTOR, WELL_PAST_BONUS = 1.5, 0.05
#: Not aligned: a latent misconfiguration; less likely the incident's cause when deploys happened without errors.
LATENT_NO_DEPLOY_CONFIDENCE, LATENT_WITH_DEPLOYS_CONFIDENCE = 0.3, 0.2
#: The access log shows the cut itself: a request cut when the delay runs out never gets its target's response (the
#: load balancer answers the 502), while a target's own error is a 5XX it sent. When more than half of the log's 5XX
#: (a majority, and at least :data:`MIN_ALIGNED_ERRORS` of them) had no target response, the log shows this
#: mechanism rather than the application failing.
CUT_SHARE, CUT_BONUS = 0.5, 0.05


#: The changes that can explain ``deregistration-delay-too-short`` (see :mod:`.related`). A CodeDeploy or ECS
#: deployment rarely names the target group; it counts when it deregistered this group's targets (a
#: ``DeregisterTargets`` on the group within its episode), or when the timeline holds no target changes at all.
DEREGISTRATION_CHANGES = ChangeSpec("deregistration-delay-too-short", {
    "targets": "a deploy deregistered targets: requests still running when the delay ran out were cut",
    "target-group-attributes": "the deregistration delay was set",
    "deployment": "a deploy replaced the targets",
}, unscoped={"deployment": "24h"})


def _target_group_deploys(inputs: Inputs, tg: str) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """The changes of the target group's deploys (a frame for the alignment) and the related-change records.

    Another function's code update or another application's deployment is not a deploy of this group.
    """
    related = related_changes(inputs.changes, DEREGISTRATION_CHANGES, targets_from(tg, kind="target_group"), limit=500,
                              window=inputs.window)
    target_times = [pd.Timestamp(r["timestamp"]) for r in related if r["kind"] == "targets"]
    if target_times:  # a deployment that names no group counts when it moved this group's targets
        related = [r for r in related if r["match"] == "resource" or any(
            pd.Timedelta(0) <= t - pd.Timestamp(r["timestamp"]) <= DEPLOY_EPISODE for t in target_times)]
    if inputs.changes is None or inputs.changes.empty or not related:
        return (inputs.changes.iloc[0:0] if inputs.changes is not None else None), related
    keys = {(pd.Timestamp(r["timestamp"]), r["event_name"]) for r in related}
    ch = inputs.changes
    ts = as_utc(ch["timestamp"])
    sel = [(t, e) in keys for t, e in zip(ts, ch["event_name"] if "event_name" in ch.columns else [None] * len(ch))]
    related.sort(key=lambda r: pd.Timestamp(r["timestamp"]))
    return ch.loc[np.asarray(sel, dtype=bool)], related


@dataclass
class Measures:
    """The target group whose slowest request most outlives its delay, its deploys, and how the ELB errors line up with them."""

    row: pd.Series
    delay: float
    slowest: float
    after: pd.Timedelta
    align: dict[str, Any]
    related: list[dict[str, Any]]
    impact: pd.DataFrame
    targets: dict[str, Any]

    @property
    def cuts_shown(self) -> bool:
        """The access log's 5XX are mostly requests no target answered (:data:`CUT_SHARE`)."""
        t = self.targets
        return bool(t.get("edge_5xx", 0) >= MIN_ALIGNED_ERRORS and t["edge_5xx_without_target_response"] > CUT_SHARE * t["edge_5xx"])

    @property
    def aligned(self) -> bool:
        a = self.align
        return bool(a["deployments"] > 0 and a["errors_near_deploys"] >= MIN_ALIGNED_ERRORS and not math.isnan(a["p_value"])
                    and a["p_value"] < MAX_P and a["lift"] >= MIN_LIFT)


def measure(inputs: Inputs) -> Measures | None:
    """Durations against the deregistration delay, the ELB errors after deregistrations and the access log's failed
    requests of the group (:func:`~incidentkit.analyses.targets.target_evidence`); None when no request outlives it."""
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
    after = pd.Timedelta(seconds=max(MIN_LOOK_AFTER_S, delay + CUT_MARGIN_S))
    align = deploy_alignment(deploy_changes, metrics=inputs.metrics, requests=requests, after=after, anchor="deregistration")
    return Measures(row=row, delay=delay, slowest=float(row["slowest_s"]), after=after, align=align, related=related,
                    impact=deploy_impact(deploy_changes, metrics=inputs.metrics, requests=requests),
                    targets=target_evidence(inputs.logs, inputs.window, str(row["target_group"])))


def judge(m: Measures) -> Verdict:
    """Aligned: the kit's scale on the error rate after deploys, at least medium. Otherwise low (latent)."""
    if not m.aligned:
        confidence = LATENT_NO_DEPLOY_CONFIDENCE if m.align["deployments"] == 0 else LATENT_WITH_DEPLOYS_CONFIDENCE
        return Verdict("low", round(min(MAX_CONFIDENCE, confidence), 3), (f"{confidence:.2f} latent: no 502s aligned with deploys",))
    row = m.row
    score = Score(ALIGNED_BASE, "ELB errors concentrate after target deregistrations")
    score.add(NEAR_DEPLOY_WEIGHT * min(1.0, m.align["share_near_deploys"]), "share of the errors after deploys")
    score.add(MANY_OVER_BONUS, "several requests over the delay",
              when=row["requests_longer_than_delay"] >= MANY_OVER or row["metric_bins_longer_than_delay"] >= MANY_OVER)
    score.add(WELL_PAST_BONUS, "the slowest request is well past the delay", when=m.slowest >= WELL_PAST_FACTOR * m.delay)
    score.add(CUT_BONUS, "most of the access log's 5XX had no response from a target: cut, not answered", when=m.cuts_shown)
    rate = m.align["error_rate_near_deploys"]
    severity = severity_for_share(rate) if not math.isnan(rate) else "medium"
    return score.verdict(at_least(severity, "medium"), round(min(MAX_CONFIDENCE, score.value), 3))


def _evidence(m: Measures) -> dict[str, Any]:
    row, align = m.row, m.align
    return {
        "target_group": row["target_group"],
        "deregistration_delay_s": m.delay,
        "slowest_request_s": m.slowest,
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
        **m.targets,
    }


def _summary(m: Measures) -> str:
    row, align, delay, slowest, after = m.row, m.align, m.delay, m.slowest, m.after
    longer = (f"{int(row['requests_longer_than_delay']):,} requests ({pct(row['share_longer_than_delay'])}) took longer"
              if row["requests_longer_than_delay"] else f"{int(row['metric_bins_longer_than_delay'])} minutes had a TargetResponseTime maximum longer")
    summary = (f"The deregistration delay of {row['target_group']} is {delay:.0f} s, but the slowest request took {slowest:.0f} s: "
               f"{longer} than the delay. ")
    if m.aligned:
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
    return summary + (" " + target_sentence(m.targets) if m.targets else "")


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the delay against the slowest requests, the 502s after deploys, the delay to set."""
    row, rec = m.row, m.row["recommended_delay_s"]
    remediation = [
        f"Set deregistration_delay.timeout_seconds above the slowest request: {rec:.0f} s (observed slowest {m.slowest:.0f} s × 1.5; "
        f"AWS allows up to 3,600): aws elbv2 modify-target-group-attributes --target-group-arn {row['target_group']} "
        f"--attributes Key=deregistration_delay.timeout_seconds,Value={rec:.0f}",
        "Make long calls asynchronous (accept with 202 and a job id, poll or notify) so no request outlives a deploy.",
        "Let the old targets drain: stop them only after the delay (ECS stopTimeout and the app's graceful-shutdown timeout "
        "at least the delay, SIGTERM handled by finishing in-flight requests; CodeDeploy blue/green termination wait ≥ the delay).",
        "Alarm on HTTPCode_ELB_502_Count during deploys and pause the rollout when it rises.",
    ]
    return Finding(
        id=ID,
        title="Deregistration delay shorter than the slowest requests: deploys cut them (502s)" if m.aligned
        else "Deregistration delay shorter than the slowest requests",
        severity=verdict.severity,
        summary=_summary(m),
        evidence=_evidence(m),
        remediation=remediation,
        confidence=verdict.confidence,
        related_changes=m.related[:20],
        onset=iso_z(m.impact["start"].min()) if not m.impact.empty else None,
    )


def detect(inputs: Inputs) -> Finding | None:
    """``deregistration-delay-too-short``: requests outlive the deregistration delay and deploys cut them.

    Needs ``deregistration_delay.timeout_seconds`` in the settings and at least one request (or
    ``TargetResponseTime`` maximum) longer than it. With ELB 502s concentrated in the minutes
    after target deregistrations (from each ``DeregisterTargets`` to the delay + 2 min, at least
    3 min; whole deploy episodes when no deregistration is in the timeline) — at least 5 errors,
    lift ≥ 3 and p < 0.01 over the minutes with unusually many errors — it is the cause of those
    502s: severity from the error rate in those minutes (at least medium), confidence 0.55-0.95
    (higher when the load balancer's access log shows most of its 5XX with no target response).
    Without that alignment it is a latent misconfiguration, reported low. With the access log,
    the finding names the targets that failed requests (``failed_targets``).

    Example
    -------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"resource_id": ["targetgroup/api/1"], "setting": ["deregistration_delay.timeout_seconds"], "value": ["30"]})
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00Z"] * 2), "latency_ms": [200.0, 64000.0]})
    >>> f = detect(Inputs(settings=s, requests=req))
    >>> f.severity, f.evidence["recommended_delay_s"]      # latent: no deploy in the window to confirm it
    ('low', 100.0)
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)
