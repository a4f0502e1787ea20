"""``scan-read-burst`` (incidents.md #8): read throttles packed into one window, a Scan behind them.

The cause: an unpaginated full-table Scan (a daily report, say) burns the table's read capacity in
one block. The evidence read: ``ReadThrottleEvents`` and read capacity (and a week of history),
Scan lines in the logs, cron rules in the settings and the change timeline. It fires when one
burst holds at least half of the read throttles in at most a quarter of the time; it is explained
by Scan lines concentrated in it and/or a schedule.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...analyses._common import fmt_p, iso_z, pct, sentence_case
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.schedules import minute_of_day, time_of_day_distance
from ...analyses.throttling import SAME_TIME_OF_DAY, read_bursts, scan_operations
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, function_of_log_group, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "SCAN_BURST_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "scan-read-burst"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "logs", "metrics", "metric_history", "changes", "settings", "resources")

#: A burst needs this many read throttles: a few are normal partition-level noise on any busy table.
MIN_EVENTS = 20
#: A burst is "packed" when it holds at least this share of the table's read throttles ...
MIN_SHARE_OF_THROTTLES = 0.5
#: ... in at most this share of the time covered (a Scan burns capacity in one block, not all day).
MAX_SHARE_OF_TIME = 0.25
#: Scan lines explain the burst strongly when they fall in it this much more often than its length predicts
#: (binomial test against the burst's share of time), at this significance — a statistical choice.
SCAN_LIFT, SCAN_P = 2.0, 0.01
#: Without significance, most Scan lines (this share) falling in the burst still point at them, weakly.
WEAK_SCAN_SHARE = 0.5
#: Writes "fine" when the burst holds at most this many write throttles per read throttle (incident 8: reads fail).
WRITES_FINE_RATIO = 0.1
#: Read capacity this used at peak means the table, not a partition, ran out.
FULL_UTILISATION = 0.9
#: Throttled read lines in the logs from which the burst failed users (not only retried quietly): high.
FAILED_READ_LINES_HIGH = 10
#: Confidence: the base for a packed burst (packed throttles alone are suggestive, not a cause) ...
BASE_CONFIDENCE = 0.35
#: ... Scan lines concentrated in it (the direct evidence), or merely most of them in it ...
STRONG_SCAN_BONUS, WEAK_SCAN_BONUS = 0.3, 0.2
#: ... a schedule: the same time on other days, or a cron rule just before (a report job) ...
SCHEDULE_BONUS = 0.15
#: ... writes unaffected (a read burst, not a capacity cut) ...
WRITES_FINE_BONUS = 0.05
#: ... the table's read capacity used up (the whole table ran out, not one partition).
FULL_UTILISATION_BONUS = 0.1
#: Scan lines this long before the burst count as its cause (the Scan starts, the throttles follow).
SCAN_LEAD = pd.Timedelta("5min")

#: The changes that can explain ``scan-read-burst`` (see :mod:`incidentkit.analyses.related`).
SCAN_BURST_CHANGES = ChangeSpec("scan-read-burst", {
    "table-capacity": "the table's read capacity or capacity mode changed",
    "code": "new code of a function that scans the table",
})


@dataclass
class Measures:
    """The largest burst (a row of :func:`~incidentkit.analyses.throttling.read_bursts`) and what explains it."""

    top: pd.Series
    recurring: bool
    share: float
    time_share: float
    scans_in: int
    scans_total: int
    scan_p: float
    scan_lift: float
    strong_scan: bool
    weak_scan: bool
    utilisation: float
    writes_fine: bool
    schedule: str | None

    @property
    def explained(self) -> bool:
        return self.strong_scan or self.weak_scan or self.recurring or bool(self.schedule)


def measure(inputs: Inputs, *, min_events: int = MIN_EVENTS) -> Measures | None:
    """The largest read-throttle burst when it is packed (:data:`MIN_SHARE_OF_THROTTLES` in :data:`MAX_SHARE_OF_TIME`)."""
    bursts = read_bursts(inputs.metrics, inputs.logs, settings=inputs.settings, history=inputs.metric_history)
    if bursts.empty:
        return None
    top = bursts.iloc[0]
    resource = top["resource"]
    same = bursts[(bursts["resource"] == resource) & bursts["recurring"] & (bursts["time_of_day"].map(
        lambda s: time_of_day_distance(int(s[:2]) * 60 + int(s[3:]), minute_of_day(top["start"])) <= SAME_TIME_OF_DAY.total_seconds() / 60))]
    recurring = bool(top["recurring"])
    share = float(same["share_of_read_throttles"].sum()) if recurring else float(top["share_of_read_throttles"])
    time_share = float(same["time_share"].sum()) if recurring else float(top["time_share"])
    if top["read_throttle_events"] < min_events:
        return None
    if not (share >= MIN_SHARE_OF_THROTTLES and time_share <= MAX_SHARE_OF_TIME):
        return None
    scans_in = int(top["scan_lines"])
    scans_total = int(top["scan_lines_total"])
    p = float(top["scan_p_value"]) if pd.notna(top["scan_p_value"]) else float("nan")
    lift = float(top["scan_lift"]) if pd.notna(top["scan_lift"]) else float("nan")
    strong_scan = scans_in >= 1 and not math.isnan(p) and p < SCAN_P and lift >= SCAN_LIFT
    return Measures(
        top=top, recurring=recurring, share=share, time_share=time_share, scans_in=scans_in, scans_total=scans_total,
        scan_p=p, scan_lift=lift, strong_scan=strong_scan,
        weak_scan=scans_in >= 1 and not strong_scan and scans_in / max(1, scans_total) >= WEAK_SCAN_SHARE,
        utilisation=float(top["peak_read_utilisation"]),
        writes_fine=float(top["write_throttle_events"]) <= WRITES_FINE_RATIO * float(top["read_throttle_events"]),
        schedule=top["schedule"] if isinstance(top["schedule"], str) else None,
    )


def judge(m: Measures) -> Verdict:
    """Low when nothing explains the burst; high with :data:`FAILED_READ_LINES_HIGH` failed reads; else medium."""
    score = Score(BASE_CONFIDENCE, "read throttles packed into one burst")
    if m.strong_scan:
        score.add(STRONG_SCAN_BONUS, "Scan lines concentrated in the burst (lift and p-value)")
    elif m.weak_scan:
        score.add(WEAK_SCAN_BONUS, "most Scan lines fall in the burst")
    score.add(SCHEDULE_BONUS, "it recurs at this time of day or a cron rule fires before it", when=m.recurring or bool(m.schedule))
    score.add(WRITES_FINE_BONUS, "writes unaffected (a read burst, not a capacity cut)", when=m.writes_fine)
    score.add(FULL_UTILISATION_BONUS, "the table's read capacity ran out", when=not math.isnan(m.utilisation) and m.utilisation >= FULL_UTILISATION)
    if not m.explained:
        severity = "low"
    elif int(m.top["read_error_lines"]) >= FAILED_READ_LINES_HIGH:
        severity = "high"
    else:
        severity = "medium"
    return score.verdict(severity, round(min(MAX_CONFIDENCE, score.value), 3))


def _causes(m: Measures) -> list[str]:
    top, causes = m.top, []
    if m.strong_scan or m.weak_scan:
        causes.append(f"{m.scans_in:,} of {m.scans_total:,} Scan lines in the logs fall in or just before it"
                      + (f" ({m.scan_lift:.1f}× what its length would hold by chance, {fmt_p(m.scan_p)})" if not math.isnan(m.scan_lift) else ""))
    if m.recurring and int(top["history_days"]) and pd.notna(top["schedule_p_value"]) and top["schedule_p_value"] < SCAN_P:
        causes.append(f"it recurs: on {int(top['history_days_at_this_time'])} of the {int(top['history_days'])} days before, "
                      f"the table's reads peaked or were throttled within {SAME_TIME_OF_DAY.total_seconds() / 60:.0f} min of {top['time_of_day']} UTC "
                      f"({fmt_p(float(top['schedule_p_value']))} against peaks at random times)")
    elif m.recurring:
        causes.append(f"it recurs at {top['time_of_day']} UTC on {int(top['days_seen'])} days")
    if m.schedule:
        causes.append(f"the scheduled rule {m.schedule} fires just before it")
    return causes


def _evidence(m: Measures) -> dict[str, Any]:
    top = m.top
    return {
        "table": top["resource"],
        "burst_start": top["start"],
        "burst_end": top["end"],
        "burst_minutes": float(top["duration_s"]) / 60.0,
        "read_throttle_events_in_burst": float(top["read_throttle_events"]),
        "share_of_read_throttles": m.share,
        "share_of_time": m.time_share,
        "peak_read_utilisation": m.utilisation,
        "write_throttle_events_in_burst": float(top["write_throttle_events"]),
        "scan_lines_in_burst": m.scans_in,
        "scan_lines_total": m.scans_total,
        "scan_lift": m.scan_lift,
        "scan_p_value": m.scan_p,
        "throttled_read_lines_in_burst": int(top["read_error_lines"]),
        "time_of_day_utc": top["time_of_day"],
        "days_with_burst_at_this_time": int(top["days_seen"]),
        "history_days": int(top["history_days"]),
        "history_days_at_this_time": int(top["history_days_at_this_time"]),
        "same_time_of_day_within_s": SAME_TIME_OF_DAY.total_seconds(),
        "schedule_p_value": float(top["schedule_p_value"]),
        "schedule": m.schedule,
    }


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the burst, what explains it, the change that can, and how to read without burning capacity."""
    top = m.top
    resource, start, end = top["resource"], top["start"], top["end"]
    scans = scan_operations(inputs.logs)
    scanners = scans.loc[(scans["timestamp"] >= start - SCAN_LEAD) & (scans["timestamp"] < end), "log_group"] if not scans.empty else []
    targets = (targets_from(resource, inputs.resources.get("table_name"), kind="table")
               + targets_from([function_of_log_group(g) for g in pd.unique(pd.Series(scanners, dtype="object"))], kind="function"))
    related = related_changes(inputs.changes, SCAN_BURST_CHANGES, targets, onset=start, window=inputs.window, slack="1min")
    evidence = _evidence(m)
    causes = _causes(m)
    util = m.utilisation
    summary = (
        f"{float(top['read_throttle_events']):,.0f} read throttles on {resource} in {float(top['duration_s']) / 60:.0f} min "
        f"from {top['time_of_day']} UTC: {pct(m.share)} of the table's read throttles in {pct(m.time_share)} of the time"
        + (f", read capacity {pct(util)} used at peak" if not math.isnan(util) else "")
        + (f", writes {'unaffected' if m.writes_fine else 'throttled too'}")
        + ". "
        + (sentence_case("; ".join(causes)) + ": a full-table Scan burning the read capacity in one block."
           if causes else "No Scan lines or schedule explain it; check what reads the table at that time.")
    )
    if related:
        evidence.update(related_evidence(related[0]))
        summary += " " + sentence(related[0], reference=window_start(inputs))
    remediation = [
        "Replace the Scan with a Query on a key (add a GSI keyed for the report if needed); a Scan reads and bills every item.",
        "If a Scan is unavoidable: paginate with Limit (e.g. 100-500 items a page) and ExclusiveStartKey, rate-limit "
        "the pages to a fraction of the read capacity (e.g. 20 % of ReadCapacityUnits), use eventually consistent "
        "reads (half the RCU), and split it with Segment/TotalSegments only as far as the capacity allows.",
        "Run heavy reports off the table: export to S3 (ExportTableToPointInTime) and query with Athena, or read a stream-fed copy.",
        f"Capacity around the schedule: on-demand (BillingMode PAY_PER_REQUEST), or an Application Auto Scaling "
        f"scheduled action raising ReadCapacityUnits shortly before {top['time_of_day']} UTC.",
    ]
    return Finding(
        id=ID,
        title=f"Scan-shaped read burst throttles {resource}" if m.explained else f"Concentrated read-throttle burst on {resource}",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=verdict.confidence,
        related_changes=related,
        onset=iso_z(start),
    )


def detect(inputs: Inputs, *, min_events: int = MIN_EVENTS) -> Finding | None:
    """``scan-read-burst``: read throttles packed into one window, with Scans or a schedule behind them.

    Needs ``ReadThrottleEvents``. The largest burst must hold at least ``min_events`` read
    throttles (a few throttles are normal partition-level noise) and at least half of the
    table's read throttles in at most a quarter of the time covered. It is then explained by
    Scan lines in the logs concentrated in the burst (lift and binomial p-value against the
    burst's share of time) and/or a schedule: bursts at the same time of day on other days, or
    a cron rule in the settings firing just before it. A concentrated burst with neither is
    reported at low severity.

    Example
    -------
    >>> detect(Inputs()) is None      # no ReadThrottleEvents, no finding
    True
    """
    measures = measure(inputs, min_events=min_events)
    return None if measures is None else explain(measures, judge(measures), inputs)
