"""``throttling-without-backoff`` (incidents.md #5): throttled calls retried back to back.

The cause: a client retries throttled DynamoDB calls at once (no exponential backoff), which
multiplies the load on a table already refusing it and drains its retry budget in seconds. The
evidence read: throttle error lines in the logs (the spacing of the retries of one call), DynamoDB
throttle and capacity metrics, the table's settings, the requests and the change timeline. It
fires when most gaps between retries are within 50 ms and do not grow; from metrics alone only
when throttles reach ten times the provisioned capacity.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...analyses._common import fmt_ms, iso_z, pct, request_share, sentence_case, severity_for_share
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.throttling import (ERROR_LEVELS, THROTTLE_ERROR_COLUMNS, TIGHT_GAP_S, capacity_timeline, retry_spacing_of,
                                    retry_summary, throttle_frame)
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, at_least, function_of_log_group, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "THROTTLING_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "throttling-without-backoff"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "logs", "requests", "metrics", "changes", "settings", "resources")

#: Without call-level spacing, only throttles at this multiple of the minute's provisioned capacity count: clients
#: refused ten times over keep hammering, while backing-off clients fall back within seconds.
EXTREME_THROTTLE_RATIO = 10.0
#: When at least this share of the throttle lines say the SDK itself retried (with its own backoff), the
#: application's loop is not the whole story.
SDK_RETRIED_SHARE = 0.5
#: "reached max retries: 0" on at least this share of the lines that say it, and the lines that say it at least
#: this share of all throttle lines: the SDK's retries were switched off, every retry is the application's.
SDK_OFF_SHARE, SDK_SAYS_SHARE = 0.9, 0.5
#: Confidence from intensity alone (no spacing measured): possible, not shown.
INTENSITY_ONLY_CONFIDENCE = 0.4
#: Confidence from the spacing: a base, plus up to 0.2 for the share of calls without backoff and up to 0.1
#: for the number of calls measured (saturating at :data:`CALLS_FOR_FULL_WEIGHT`).
BASE_CONFIDENCE, NO_BACKOFF_WEIGHT, CALLS_WEIGHT, CALLS_FOR_FULL_WEIGHT = 0.55, 0.2, 0.1, 20.0
#: The throttling is confirmed by CloudWatch (throttle events, or capacity this used at peak).
CAPACITY_CONFIRMED_UTILISATION, CAPACITY_CONFIRMED_BONUS = 0.9, 0.1
#: The SDK retried with its own backoff before the application looped.
SDK_RETRIED_PENALTY = -0.15
#: The SDK's retries were off: the loop is the application's.
SDK_OFF_BONUS = 0.05
#: Failed lines from which the throttling broke the job (high), not only slowed it.
FAILED_LINES_HIGH = 100


#: The changes that can explain ``throttling-without-backoff``, most direct first (see :mod:`.related`).
THROTTLING_CHANGES = ChangeSpec("throttling-without-backoff", {
    "table-capacity": "the table's capacity or capacity mode changed",
    "event-source": "the event source mapping changed how many writers run at once (batch size, maximum concurrency)",
    "reserved-concurrency": "the writers' concurrency limit changed",
    "code": "new code changed how the writers call and retry",
    "function-config": "the writers' configuration changed (SDK retry settings, timeouts, memory)",
}, unscoped={"event-source": "24h"})  # a mapping change's request names only the mapping's UUID


@dataclass
class Measures:
    """Throttle lines, the capacity timeline at its peak, and how the retries were spaced."""

    errs: pd.DataFrame
    metric_throttles: float
    summary: dict[str, Any]
    peak: pd.Series | None
    throttled: pd.DataFrame
    peak_ratio: float
    peak_util: float
    sdk_share: float
    sdk_off: bool
    request_share: float
    failed_lines: int

    @property
    def spacing_measured(self) -> bool:
        return self.summary["verdict"] != "insufficient"


def measure(inputs: Inputs) -> Measures | None:
    """Throttle lines and retry spacing (:func:`retry_summary`); None when the calls back off or nothing was throttled."""
    logs = inputs.logs
    frame = throttle_frame(logs)
    errs = frame.sort_values("timestamp", kind="stable", ignore_index=True)[list(THROTTLE_ERROR_COLUMNS)]
    cap = capacity_timeline(inputs.metrics, inputs.settings)
    events = cap["throttle_events"].fillna(0.0)
    metric_throttles = float(events.sum()) if len(cap) else 0.0
    if errs.empty and metric_throttles <= 0:
        return None
    summ = retry_summary(retry_spacing_of(logs, frame))
    throttled = cap[events > 0]
    peak_ratio = float(throttled["throttle_ratio"].max()) if len(throttled) and throttled["throttle_ratio"].notna().any() else float("nan")
    # "reached max retries: 0" means the SDK's own retries were switched off; N >= 1 means it backed off N times
    sdk_known = errs["sdk_retries"].dropna()
    sdk_share = float((sdk_known >= 1).sum() / len(errs)) if len(errs) else float("nan")
    if summ["verdict"] in ("backoff", "fixed-delay", "mixed"):
        return None  # throttling with backoff is a capacity question, not this finding
    if summ["verdict"] == "insufficient" and (
            not (peak_ratio >= EXTREME_THROTTLE_RATIO) or (not math.isnan(sdk_share) and sdk_share >= SDK_RETRIED_SHARE)):
        return None
    failed = errs["level"].isin(list(ERROR_LEVELS)).fillna(False)
    return Measures(
        errs=errs, metric_throttles=metric_throttles, summary=summ, throttled=throttled, peak_ratio=peak_ratio,
        peak=throttled.loc[throttled["throttle_events"].idxmax()] if len(throttled) else None,
        peak_util=float(cap["utilisation"].max()) if len(cap) and cap["utilisation"].notna().any() else float("nan"),
        sdk_share=sdk_share,
        sdk_off=bool(len(sdk_known) and (sdk_known == 0).mean() >= SDK_OFF_SHARE and len(sdk_known) >= SDK_SAYS_SHARE * len(errs)),
        request_share=request_share(inputs.requests, errs.loc[failed, "request_id"]),
        failed_lines=int(failed.sum()),
    )


def judge(m: Measures) -> Verdict:
    """Medium from intensity alone; from the spacing, the kit's scale on the failed requests, at least medium (high at scale)."""
    if not m.spacing_measured:
        return Verdict("medium", INTENSITY_ONLY_CONFIDENCE, (f"{INTENSITY_ONLY_CONFIDENCE:.2f} throttles at "
                                                             f"{EXTREME_THROTTLE_RATIO:.0f}x capacity, spacing not measured",))
    summ = m.summary
    score = Score(BASE_CONFIDENCE, "retries of the same call spaced without backoff")
    score.add(NO_BACKOFF_WEIGHT * (summ["share_no_backoff"] or 0.0), "share of calls without backoff")
    score.add(CALLS_WEIGHT * min(1.0, summ["calls"] / CALLS_FOR_FULL_WEIGHT), "calls measured")
    score.add(CAPACITY_CONFIRMED_BONUS, "CloudWatch confirms the throttling",
              when=(not math.isnan(m.peak_util) and m.peak_util >= CAPACITY_CONFIRMED_UTILISATION) or m.metric_throttles > 0)
    score.add(SDK_RETRIED_PENALTY, "the SDK retried with its own backoff first",
              when=not math.isnan(m.sdk_share) and m.sdk_share >= SDK_RETRIED_SHARE)
    score.add(SDK_OFF_BONUS, "the SDK's retries were switched off", when=m.sdk_off)
    severity = "medium"
    if not math.isnan(m.request_share):
        severity = at_least(severity_for_share(m.request_share), "medium")
    if m.failed_lines >= FAILED_LINES_HIGH or (not math.isnan(m.peak_util) and m.peak_util >= 1.0) or m.peak_ratio >= 1.0:
        severity = at_least(severity, "high")
    return score.verdict(severity, round(min(MAX_CONFIDENCE, max(0.0, score.value)), 3))


def _basis(m: Measures) -> str:
    summ = m.summary
    if not m.spacing_measured:
        return (f"throttle events reached {m.peak_ratio:.0f}× the provisioned capacity of the minute; "
                "retry spacing could not be measured (no request id / item key / attempt number ties lines together)")
    return (
        f"{summ['calls']:,} retried calls: {pct(summ['share_within_50ms'])} of {summ['gaps']:,} gaps between attempts "
        f"within 50 ms (median gap {fmt_ms(summ['median_gap_s'] * 1000)}), gaps do not grow "
        f"(median ratio of successive gaps {summ['median_growth']:.2f}; exponential backoff doubles them)"
        if not math.isnan(summ["median_growth"])
        else f"{summ['calls']:,} retried calls: {pct(summ['share_within_50ms'])} of {summ['gaps']:,} gaps between "
        f"attempts within 50 ms (median gap {fmt_ms(summ['median_gap_s'] * 1000)})"
    )


def _evidence(m: Measures, table: str | None, prov: float) -> dict[str, Any]:
    summ, errs = m.summary, m.errs
    op = errs["operation"].dropna()
    return {
        "throttle_error_lines": int(len(errs)),
        "throttle_events_metric": m.metric_throttles,
        "retried_calls": summ["calls"],
        "retry_gaps": summ["gaps"],
        "median_retry_gap_ms": summ["median_gap_s"] * 1000 if not math.isnan(summ["median_gap_s"]) else float("nan"),
        "share_gaps_within_50ms": summ["share_within_50ms"],
        "tight_gap_ms": TIGHT_GAP_S * 1000,
        "median_gap_growth": summ["median_growth"],
        "share_calls_no_backoff": summ["share_no_backoff"],
        "calls_left_out_interleaved": summ["interleaved"],
        "peak_throttle_to_capacity": m.peak_ratio,
        "peak_utilisation": m.peak_util,
        "provisioned_units_per_s": prov,
        "share_lines_sdk_retried": m.sdk_share,
        "sdk_retries_off": m.sdk_off,
        "top_operation": str(op.mode().iloc[0]) if len(op) else None,
        "table": table,
        "top_error_code": str(errs["error_code"].mode().iloc[0]) if len(errs) else None,
    }


def _remediation(m: Measures, kind: str, prov: float) -> list[str]:
    return [
        "Retry with exponential backoff and full jitter (sleep = random(0, min(cap, base × 2^attempt))); with boto3 "
        "drop the hand-written loop and use Config(retries={'mode': 'adaptive', 'max_attempts': 10}) "
        "(or 'standard'), which also rate-limits the client when it sees throttling"
        + (" — the SDK's retries are switched off today (max_attempts 1)." if m.sdk_off else "."),
        "Write in batches with BatchWriteItem (25 items) and re-send only the UnprocessedItems it returns, "
        "backing off between rounds.",
        "Bound the writers' concurrency (Lambda reserved concurrency, SQS batch size / maximum concurrency, "
        "or a token bucket at the table's capacity) instead of starting thousands of writes at once.",
        (
            f"Capacity: the table had {prov:,.0f} {kind} units/s provisioned; switch it to on-demand "
            "(BillingMode PAY_PER_REQUEST) or enable auto scaling with a 70 % target utilisation for batch peaks."
            if not math.isnan(prov)
            else "Capacity: switch the table to on-demand (BillingMode PAY_PER_REQUEST) or enable auto scaling "
            "with a 70 % target utilisation for batch peaks."
        ),
    ]


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: how the retries were spaced, the capacity they hit, the change that can explain it, the fix."""
    errs, peak, throttled = m.errs, m.peak, m.throttled
    onset = errs["timestamp"].min() if len(errs) else (throttled["timestamp"].min() if len(throttled) else None)
    table = str(peak["resource"]) if peak is not None else None
    kind = str(peak["kind"]) if peak is not None else "write"
    prov = float(peak["provisioned_per_s"]) if peak is not None and pd.notna(peak["provisioned_per_s"]) else float("nan")
    evidence = _evidence(m, table, prov)
    what = f"{kind} capacity of {table}" if table and table != "(all)" else "capacity"
    counts = []
    if len(errs):
        counts.append(f"{len(errs):,} throttle lines in the logs")
    if m.metric_throttles:
        counts.append(f"{m.metric_throttles:,.0f} throttle events in CloudWatch")
    lead = "Throttled calls were retried with no backoff" if m.summary["verdict"] == "no-backoff" else "Throttled calls were likely retried with no backoff"
    summary = (
        f"{lead}: {_basis(m)}. "
        + sentence_case(", ".join(counts))
        + (f"; consumed {pct(m.peak_util)} of the provisioned {what} at peak" if not math.isnan(m.peak_util) else "")
        + ". "
        + ("The SDK's own retries were switched off (\"reached max retries: 0\"), so every retry is the application's. "
           if m.sdk_off else "")
        + "Retrying at once multiplies the load on a table that is already refusing it, so the job drains "
        "its retry budget in seconds and fails."
    )
    related = related_changes(inputs.changes, THROTTLING_CHANGES, _writer_targets(inputs, table), onset=onset,
                              window=inputs.window, slack="1min")
    if related:
        evidence.update(related_evidence(related[0]))
        summary += " " + sentence(related[0], reference=window_start(inputs))
    return Finding(
        id=ID,
        title="Throttled writes retried with no backoff" if kind == "write" else "Throttled calls retried with no backoff",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=_remediation(m, kind, prov),
        confidence=verdict.confidence,
        related_changes=related,
        onset=iso_z(onset),
    )


def _writer_targets(inputs: Inputs, table: str | None) -> list[Any]:
    """The table and the functions whose logs hold the throttled calls (and those the investigation names)."""
    names = []
    logs = inputs.logs
    if logs is not None and not logs.empty:
        if "function_name" in logs.columns:
            names += [str(x) for x in logs["function_name"].dropna().unique()[:20]]
        if "log_group" in logs.columns:
            names += [n for n in map(function_of_log_group, logs["log_group"].dropna().unique()[:20]) if n]
    return (targets_from(table if table != "(all)" else None, inputs.resources.get("table_name"), kind="table")
            + targets_from(names, inputs.resources.get("function_name"), kind="function"))


def detect(inputs: Inputs) -> Finding | None:
    """``throttling-without-backoff``: throttled calls retried back to back.

    Evidence, strongest first: the spacing of retries of the same call (:func:`retry_summary`
    verdict ``no-backoff``: most gaps within 50 ms and no growth); failing that, throttle
    events per minute at ten times or more the provisioned capacity of the minute (clients
    refused ten times over keep hammering — backing-off clients fall back within seconds).
    Calls whose gaps grow (backoff) raise nothing here: throttling with backoff is a
    capacity question, not this finding.

    Example
    -------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2026-03-01T01:00:00Z")
    >>> logs = pd.DataFrame([{"timestamp": t0 + pd.Timedelta(seconds=i, milliseconds=9 * a), "request_id": f"item-{i}",
    ...                       "message": "ProvisionedThroughputExceededException: throughput exceeded"}
    ...                      for i in range(6) for a in range(4)])
    >>> f = detect(Inputs(logs=logs))
    >>> f.id, f.evidence["share_gaps_within_50ms"]
    ('throttling-without-backoff', 1.0)
    """

    measures = measure(inputs)
    return None if measures is None else explain(measures, judge(measures), inputs)
