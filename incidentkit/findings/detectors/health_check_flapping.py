"""``health-check-flapping`` (incidents.md #6 and #9): healthy targets pulled out by tight checks.

The cause: a health check whose interval, timeout and thresholds are tighter than the targets'
transient CPU or latency spikes marks healthy targets unhealthy for a moment; requests routed to
them get ELB 502s. The evidence read: ``UnHealthyHostCount``, CPU and response-time metrics,
target-health observations, the target group's settings, ELB 502 counts, the change timeline and,
when the load balancer's access log was read, its per-request target fields (which targets failed
requests, and whether a target answered them). It fires on three or more unhealthy episodes in a
target group, most of them short.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...analyses._common import iso_z, pct, select_metric, severity_for_share, tg_matches
from ...analyses.change_words import blameless_actor, when_text
from ...analyses.healthchecks import (CHECK_TOLERANCE_FLOOR_S, check_timing, resolution_text, target_transitions, transient_spikes,
                                      unhealthy_episodes, unhealthy_spells)
from ...analyses.route53 import metric_sum
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.targets import target_evidence, target_sentence
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, episodes_in_window, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "HEALTH_CHECK_FLAPPING_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "health-check-flapping"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "metrics", "changes", "settings", "health", "resources", "logs")

#: Unhealthy episodes needed in one target group: one or two are a bad deploy or a dying host, three a pattern.
MIN_EPISODES = 3
#: An episode is short when it is over within max(5 min, 3 x (time to unhealthy + time to healthy)): a check cycle
#: or three, the time a healthy target needs to be pulled and put back.
SHORT_FLOOR_S, SHORT_CYCLES = 300.0, 3
#: Flapping, not a dead host: at least this share of the episodes is short.
MIN_SHORT_SHARE = 0.6
#: A spike explains an episode when it starts this long before it at most (the checks fail during the spike).
EPISODE_SLACK = pd.Timedelta(minutes=2)
#: A per-target mark follows its spike within the time to unhealthy, and at least this long.
MIN_MARK_SLACK_S = 60.0
#: The spikes explain the flapping: at least half the episodes (or marks) line up with one, 1.5x the chance level.
SPIKE_SHARE, SPIKE_OVER_CHANCE = 0.5, 1.5
#: Confidence: a base for short, repeated episodes ...
BASE_CONFIDENCE = 0.35
#: ... settings tighter than the observed spikes or P99 ...
TIGHT_BONUS = 0.2
#: ... up to 0.2 for the share of episodes a spike explains ...
SPIKE_WEIGHT = 0.2
#: ... most ELB 502s fall inside the episodes (at least this share) ...
ELB_502_SHARE, ELB_502_BONUS = 0.5, 0.1
#: ... target health says Target.Timeout; many episodes; a change of the health check before them.
TIMEOUT_REASON_BONUS, MANY_EPISODES, MANY_EPISODES_BONUS, CHANGE_BONUS = 0.05, 5, 0.05, 0.05


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
                f"({resolution_text(res)} datapoints: a shorter blip fills a whole datapoint)")
    if not spikes.empty:
        ev["spike_resolution_s"] = float(spikes["resolution_s"].max())
        ev["longest_spike_at_least_s"] = max(0.0, float(spikes["duration_s"].max()) - 2 * ev["spike_resolution_s"])
    return ev, text


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


@dataclass
class Measures:
    """The target group's episodes, the spikes and check timing behind them, ELB 502s, and the change before them."""

    tg: Any
    eps: pd.DataFrame
    cpu: pd.DataFrame
    lat: pd.DataFrame
    spikes: pd.DataFrame
    longest: float | None
    spike_res: float | None
    tgt: pd.DataFrame
    row: pd.Series | None
    short_limit: float
    short_share: float
    marks: pd.DataFrame
    alignment: str
    spike_share: float
    chance: float
    e502_in: float
    e502_all: float
    share_502: float
    timeouts: int
    related: list[dict[str, Any]]
    targets: dict[str, Any]

    @property
    def tight(self) -> bool:
        return bool(self.row is not None and self.row["tight"])

    @property
    def spikes_explain(self) -> bool:
        return self.spike_share >= SPIKE_SHARE and (math.isnan(self.chance) or self.spike_share >= SPIKE_OVER_CHANCE * self.chance)

    @property
    def cause(self) -> dict[str, Any] | None:
        return self.related[0] if self.related else None


def _spike_alignment(inputs: Inputs, eps: pd.DataFrame, spikes: pd.DataFrame, marks: pd.DataFrame,
                     row: pd.Series | None) -> tuple[str, float, float]:
    """How the spikes line up: per target (marks of a target in its own spikes) when possible, else per episode."""
    all_eps = unhealthy_episodes(inputs.metrics)
    span_src = select_metric(inputs.metrics, None, "UnHealthyHostCount") if inputs.metrics is not None else None
    if span_src is not None and not span_src.empty:
        span = (span_src["timestamp"].min(), span_src["timestamp"].max() + pd.Timedelta(minutes=1))
    else:
        span = (all_eps["start"].min(), all_eps["end"].max())
    mark_slack = pd.Timedelta(seconds=max(MIN_MARK_SLACK_S, float(row["time_to_unhealthy_s"])
                                          if row is not None and not math.isnan(row["time_to_unhealthy_s"]) else MIN_MARK_SLACK_S))
    per_target = _aligned_per_target(marks, spikes, span, mark_slack) if not marks.empty else None
    if per_target is not None:
        return "per target", per_target[0], per_target[1]
    spike_share, chance = _aligned(eps, spikes, span, EPISODE_SLACK)
    return "per episode", spike_share, chance


def _elb_502s(inputs: Inputs, eps: pd.DataFrame) -> tuple[float, float, float]:
    """ELB 502s inside the episodes, in all, and the share of the window's requests that got one."""
    e502_in = float(eps["elb_502"].sum())
    e502_all = float(metric_sum(inputs.metrics, "AWS/ApplicationELB", ("HTTPCode_ELB_502_Count",), "Sum")["value"].sum())
    reqs = metric_sum(inputs.metrics, "AWS/ApplicationELB", ("RequestCount",), "Sum")
    if inputs.window is not None and not reqs.empty:
        reqs = reqs[(reqs["timestamp"] >= inputs.window.start) & (reqs["timestamp"] < inputs.window.end)]
    total_requests = float(reqs["value"].sum()) if not reqs.empty else float("nan")
    return e502_in, e502_all, e502_in / total_requests if total_requests and total_requests > 0 else float("nan")


def measure(inputs: Inputs) -> Measures | None:
    """The most flapping target group's episodes, what lines up with them and the access log's failed requests of the
    group (:func:`~incidentkit.analyses.targets.target_evidence`); None unless most episodes are short."""
    eps = episodes_in_window(unhealthy_episodes(inputs.metrics), inputs)
    if len(eps) < MIN_EPISODES:
        return None
    tg = eps["target_group"].value_counts().index[0]
    eps = eps[eps["target_group"] == tg].reset_index(drop=True)
    if len(eps) < MIN_EPISODES:
        return None
    cpu = transient_spikes(inputs.metrics, "cpu")
    lat = transient_spikes(inputs.metrics, "latency")
    spikes = pd.concat([s for s in (cpu, lat) if not s.empty], ignore_index=True) if not (cpu.empty and lat.empty) else cpu
    longest = float(spikes["duration_s"].max()) if not spikes.empty else None
    spike_res = float(spikes["resolution_s"].max()) if not spikes.empty else None
    timing = check_timing(inputs.settings, metrics=inputs.metrics, longest_spike_s=longest, spike_resolution_s=spike_res)
    tgt = timing[(timing["kind"] == "target_group") & timing["resource_id"].map(lambda r: tg_matches(str(r), str(tg)))] if not timing.empty else timing
    row = tgt.iloc[0] if not tgt.empty else None
    t_cycle = float(np.nansum([row["time_to_unhealthy_s"], row["time_to_healthy_s"]])) if row is not None else 0.0
    short_limit = max(SHORT_FLOOR_S, SHORT_CYCLES * t_cycle)
    short_share = float((eps["duration_s"] <= short_limit).mean())
    if short_share < MIN_SHORT_SHARE:
        return None
    marks = target_transitions(inputs.health)
    marks = marks[marks["target_group"].fillna("").map(lambda r: tg_matches(str(r), str(tg)))] if not marks.empty else marks
    alignment, spike_share, chance = _spike_alignment(inputs, eps, spikes, marks, row)
    e502_in, e502_all, share_502 = _elb_502s(inputs, eps)
    related = related_changes(inputs.changes, HEALTH_CHECK_FLAPPING_CHANGES,
                              targets_from(tg, inputs.resources.get("target_group_arn"), kind="target_group"),
                              onset=eps["start"].min(), window=inputs.window)
    return Measures(tg=tg, eps=eps, cpu=cpu, lat=lat, spikes=spikes, longest=longest, spike_res=spike_res, tgt=tgt, row=row,
                    short_limit=short_limit, short_share=short_share, marks=marks, alignment=alignment, spike_share=spike_share,
                    chance=chance, e502_in=e502_in, e502_all=e502_all, share_502=share_502,
                    timeouts=_target_reasons(inputs.health, tg).get("Target.Timeout", 0), related=related,
                    targets=target_evidence(inputs.logs, inputs.window, str(tg)))


def judge(m: Measures) -> Verdict:
    """The kit's scale on the requests that got an ELB 502, at least medium when the checks are at fault; else low."""
    score = Score(BASE_CONFIDENCE, "short unhealthy episodes that recover on their own")
    score.add(TIGHT_BONUS, "health-check settings tighter than the spikes or the P99", when=m.tight)
    score.add(SPIKE_WEIGHT * m.spike_share, "episodes that start with a spike", when=m.spikes_explain)
    score.add(ELB_502_BONUS, "most ELB 502s inside the episodes", when=m.e502_in > 0 and m.e502_in >= ELB_502_SHARE * m.e502_all)
    score.add(TIMEOUT_REASON_BONUS, "target health says Target.Timeout", when=bool(m.timeouts))
    score.add(MANY_EPISODES_BONUS, "many episodes", when=len(m.eps) >= MANY_EPISODES)
    score.add(CHANGE_BONUS, "a change of the health check before them", when=m.cause is not None)
    if m.tight or m.spikes_explain:
        sev = severity_for_share(m.share_502) if not math.isnan(m.share_502) else ("medium" if m.e502_in == 0 else "high")
        severity = sev if sev in ("critical", "high") else "medium"
    else:
        severity = "low"
    return score.verdict(severity, round(min(MAX_CONFIDENCE, score.value), 3))


def _evidence(m: Measures, durations: dict[str, Any]) -> dict[str, Any]:
    row, eps = m.row, m.eps
    evidence: dict[str, Any] = {
        "target_group": m.tg,
        "unhealthy_episodes": int(len(eps)),
        **durations,
        "short_episode_limit_s": m.short_limit,
        "share_short_episodes": m.short_share,
        "peak_unhealthy_hosts": float(eps["peak_unhealthy"].max()),
        "elb_502_in_episodes": m.e502_in,
        "elb_502_total": m.e502_all,
        "share_requests_502": m.share_502,
        "unhealthy_marks": int(len(m.marks)),
        "spike_alignment": m.alignment,
        "episodes_with_spike": m.spike_share,
        "chance_of_spike": m.chance,
        "longest_spike_s": m.longest,
        "cpu_spike_peak": float(m.cpu["peak"].max()) if not m.cpu.empty else None,
        "latency_spike_peak_s": float(m.lat["peak"].max()) if not m.lat.empty else None,
        "target_timeout_reasons": m.timeouts,
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
    evidence.update(m.targets)
    evidence.update(related_evidence(m.cause))
    return evidence


def _summary(m: Measures, evidence: dict[str, Any], duration_text: str) -> str:
    row, eps, chance, spike_share = m.row, m.eps, m.chance, m.spike_share
    res_text = resolution_text(evidence["episode_resolution_s"])
    parts = [f"{len(eps)} unhealthy episodes on {m.tg} in {res_text} UnHealthyHostCount datapoints, {pct(m.short_share, 0)} of "
             f"them over within {m.short_limit / 60:.0f} min; {duration_text}"]
    if row is not None:
        parts.append(f"health checks every {row['interval_s']:g} s with a {row['timeout_s']:g} s timeout mark a target unhealthy "
                     f"after {row['time_to_unhealthy_s']:.0f} s of failures" + (f" — too tight: {row['reasons']}" if row["reasons"] else ""))
    spike_len = (f", spikes spanning up to {m.longest / 60:.0f} min of {resolution_text(m.spike_res)} datapoints"
                 if m.longest and m.spike_res else "")
    if m.spikes_explain and m.alignment == "per target":
        parts.append(f"{pct(spike_share, 0)} of the {len(m.marks)} unhealthy marks came with a CPU or latency spike on the same target"
                     + (f" (chance {pct(chance, 0)})" if not math.isnan(chance) else "") + spike_len)
    elif m.spikes_explain:
        parts.append(f"{pct(spike_share, 0)} of the episodes start with a CPU or latency spike"
                     + (f" (chance {pct(chance, 0)})" if not math.isnan(chance) else "") + spike_len)
    if m.e502_in:
        parts.append(f"{m.e502_in:.0f} ELB 502s inside the episodes" + (f" ({pct(m.share_502, 2)} of requests)" if not math.isnan(m.share_502) else ""))
    if m.timeouts:
        parts.append(f"target health gives Target.Timeout as the reason {m.timeouts} time{'s' if m.timeouts != 1 else ''}")
    return "; ".join(parts) + ". Healthy targets are being taken out of service by transient slowness, not by failure."


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the episodes and their lengths, the check settings, the spikes, the 502s, settings that tolerate them."""
    durations, duration_text = _flap_durations(m.eps, unhealthy_spells(inputs.health, m.tg), m.spikes)
    evidence = _evidence(m, durations)
    summary = _summary(m, evidence, duration_text)
    if m.targets:
        summary += " " + target_sentence(m.targets)
    if m.cause is not None:
        summary += " " + sentence(m.cause, reference=window_start(inputs))
    arn = str(m.tgt.iloc[0]["resource_id"]) if m.row is not None else "<target-group-arn>"
    return Finding(
        id=ID,
        title="Health checks too tight: targets flap on transient spikes",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=_flap_remediation(m.row, arn, m.longest, m.cause),
        confidence=verdict.confidence,
        related_changes=m.related,
        onset=iso_z(m.eps["start"].min()),
    )


def detect(inputs: Inputs) -> Finding | None:
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
    >>> f = detect(Inputs(metrics=m))
    >>> f.evidence["unhealthy_episodes"], f.severity      # flapping, but no settings or spikes to blame: low
    (4, 'low')
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)


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
