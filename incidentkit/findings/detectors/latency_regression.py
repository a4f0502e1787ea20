"""``latency-regression``: the share of requests slower than the baseline's P99 rose from an onset.

measure → judge → explain (see :mod:`._generic` for what the two generic findings share):

* **measure**: the baseline's P99 as the threshold of "slow"; the shift of the slow share
  (:func:`incidentkit.analyses.shift.shift`); P50/P99 before and after; where the slow requests
  concentrate; the changes just before.
* **judge**: severity from the excess slow share; confidence from the place and a change
  before, lowered when the slow requests are mostly failures (that is the error spike seen
  through latency).
* **explain**: title and summary, every number an evidence value.

Example
-------
>>> from incidentkit.findings.model import Inputs
>>> detect(Inputs()) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...analyses._common import fmt_ms, fmt_p, iso_z, pct
from ...analyses.impact import failed_mask
from ...analyses.localise import DIMENSIONS
from ...analyses.shift import Shift, shift
from ..model import Finding, Inputs
from . import _generic as g

__all__ = ["ID", "NEEDS", "LatencyMeasures", "measure", "judge", "explain", "detect"]

ID = "latency-regression"
NEEDS = ("requests", "baseline_requests", "logs", "baseline_logs", "error_lines", "window", "baseline", "changes", "resources")

#: "Slow" is slower than this quantile of the requests before the window: the baseline's own tail.
SLOW_QUANTILE = 0.99
#: Requests needed to estimate that quantile (the 99th needs about a hundred to be more than the maximum).
MIN_THRESHOLD_REQUESTS = 100
#: Slow requests that are mostly failures are the error spike seen through latency: confidence drops.
FAILED_SLOW_SHARE = 0.5


@dataclass
class LatencyMeasures:
    """What :func:`measure` found: the threshold, the shift of the slow share, the requests on both sides, where, the changes."""

    traffic: g.Traffic
    shift: Shift
    threshold_ms: float
    before: pd.DataFrame
    after: pd.DataFrame
    where: pd.DataFrame
    top: pd.Series | None
    failed_share_of_slow: float
    related: list[dict[str, Any]]


def slow_threshold(tr: g.Traffic) -> float | None:
    """The P99 of the requests before the window, else with the window's first third added; ``None`` with too few."""
    lat = pd.to_numeric(tr.rows.get("latency_ms"), errors="coerce")
    if lat is None or lat.notna().sum() == 0:
        return None
    t, w = tr.rows["t"], tr.window
    before = lat[(t < w.start).fillna(False).to_numpy(dtype=bool)].dropna()
    if len(before) < MIN_THRESHOLD_REQUESTS:
        first = lat[((t >= w.start) & (t < w.start + (w.end - w.start) / 3)).fillna(False).to_numpy(dtype=bool)].dropna()
        before = pd.concat([before, first])
    return float(before.quantile(SLOW_QUANTILE)) if len(before) >= MIN_THRESHOLD_REQUESTS else None


def _quantiles(lat: pd.Series) -> tuple[float, float]:
    lat = lat.dropna()
    return (float(lat.quantile(0.5)), float(lat.quantile(0.99))) if len(lat) else (np.nan, np.nan)


def measure(inputs: Inputs) -> LatencyMeasures | None:
    """The shift of the share slower than the baseline's P99; ``None`` when there is none beyond the noise."""
    tr = g.traffic(inputs)
    if tr is None or "latency_ms" not in tr.rows.columns:
        return None
    threshold = slow_threshold(tr)
    if threshold is None:
        return None
    lat = pd.to_numeric(tr.rows["latency_ms"], errors="coerce")
    has = lat.notna().to_numpy(dtype=bool)
    tr = g.Traffic(rows=tr.rows.loc[has], window=tr.window, baseline=tr.baseline)
    slow = lat[has] > threshold
    s = shift(tr.rows["t"], slow, window=tr.window, baseline=tr.baseline)
    if s.onset is None or not s.significant:
        return None
    after, before = g.sides(tr, s.onset)
    conc = g.where(after, before, slow.loc[after.index], slow.loc[before.index], DIMENSIONS,
                   known=g.coded_traffic(inputs))
    failed = failed_mask(after)[slow.loc[after.index].to_numpy(dtype=bool)]
    return LatencyMeasures(traffic=tr, shift=s, threshold_ms=threshold, before=before, after=after, where=conc,
                           top=g.with_method(g.top_where(conc), after),
                           failed_share_of_slow=float(failed.mean()) if len(failed) else 0.0,
                           related=g.related(inputs, tr, conc, s))


def judge(m: LatencyMeasures) -> g.Verdict:
    """Severity from the excess slow share; confidence from the place and a change before, less when slow means failed."""
    penalty = g.CHANGE_CONFIDENCE if m.failed_share_of_slow >= FAILED_SLOW_SHARE else 0.0
    return g.verdict(m.shift, what=False, where=m.top is not None, changed=bool(m.related), penalty=penalty,
                     penalty_why="the slow requests are mostly failures: the error spike seen through latency")


def _evidence(m: LatencyMeasures) -> dict[str, Any]:
    s = m.shift
    p50_b, p99_b = _quantiles(pd.to_numeric(m.before["latency_ms"], errors="coerce"))
    p50_a, p99_a = _quantiles(pd.to_numeric(m.after["latency_ms"], errors="coerce"))
    ev: dict[str, Any] = {"onset": iso_z(s.onset), "p50_before_ms": p50_b, "p50_after_ms": p50_a, "p99_before_ms": p99_b,
                          "p99_after_ms": p99_a}
    ev.update(g.shift_evidence(s, "slow_share", "slow"))
    ev.update({"slow_threshold_ms": m.threshold_ms, "share_of_requests_slow": s.excess_share,
               "failed_share_of_slow": m.failed_share_of_slow})
    ev.update(g.where_evidence(m.top, m.where))
    if m.top is not None:  # the place's own percentiles: the overall ones dilute a regression of one route
        ev["value_p50_before_ms"], ev["value_p99_before_ms"] = _quantiles(_latency_of(m.before, m.top))
        ev["value_p50_after_ms"], ev["value_p99_after_ms"] = _quantiles(_latency_of(m.after, m.top))
    ev.update(g.related_list_evidence(m.related))
    return g.headline_first(ev)


def _latency_of(rows: pd.DataFrame, top: pd.Series) -> pd.Series:
    """The latencies of the requests that carry the top value of its dimension."""
    dim = str(top["dimension"])
    if dim not in rows.columns:
        return pd.Series([], dtype=float)
    hit = (rows[dim].astype("string") == str(top["value"])).fillna(False).to_numpy(dtype=bool)
    return pd.to_numeric(rows.loc[hit, "latency_ms"], errors="coerce")


def explain(m: LatencyMeasures, verdict: g.Verdict, inputs: Inputs | None = None) -> Finding:
    """Title, summary (every number an evidence value) and remediation."""
    s, top, ev = m.shift, m.top, _evidence(m)
    p50_b, p50_a, p99_b, p99_a = ev["p50_before_ms"], ev["p50_after_ms"], ev["p99_before_ms"], ev["p99_after_ms"]
    when = s.onset.strftime("%H:%M")
    if top is not None and not pd.isna(ev["value_p99_after_ms"]):
        title = (f"Latency rose from {when} UTC in {g.value_label(top)}: its P99 {fmt_ms(ev['value_p99_before_ms'])} → "
                 f"{fmt_ms(ev['value_p99_after_ms'])}, P50 {fmt_ms(ev['value_p50_before_ms'])} → {fmt_ms(ev['value_p50_after_ms'])}")
    else:
        title = f"Latency rose from {when} UTC: P99 {fmt_ms(p99_b)} → {fmt_ms(p99_a)}, P50 {fmt_ms(p50_b)} → {fmt_ms(p50_a)}"
    change = g.change_clause(m.related, m.traffic.window)
    if top is not None:
        lead = (f"From {when} UTC, {pct(top['bad_share'], 0)} of {g.value_label(top)} requests are slower than the "
                f"baseline's P99 of {fmt_ms(m.threshold_ms)} ({g.was(top['bad_share_before'])}){change}. They hold "
                f"{pct(top['share_of_errors'], 0)} of the slow requests with {pct(top['share_of_traffic'], 0)} of the traffic.")
    else:
        lead = (f"From {when} UTC, {pct(s.after_share, 1)} of requests are slower than the baseline's P99 of "
                f"{fmt_ms(m.threshold_ms)} (was {pct(s.before_share, 1)}){change}.")
    overall = (f"P50 went from {fmt_ms(p50_b)} to {fmt_ms(p50_a)} and P99 from {fmt_ms(p99_b)} to {fmt_ms(p99_a)} "
               f"({fmt_p(s.p_value)} against the baseline's own variation)")
    if top is not None and not pd.isna(ev["value_p99_after_ms"]):
        summary = (f"{lead} There the P50 went from {fmt_ms(ev['value_p50_before_ms'])} to {fmt_ms(ev['value_p50_after_ms'])} "
                   f"and the P99 from {fmt_ms(ev['value_p99_before_ms'])} to {fmt_ms(ev['value_p99_after_ms'])}; overall the "
                   f"{overall}.")
    else:
        summary = f"{lead} Overall {overall}."
    steps = []
    if m.related:
        r = m.related[0]
        steps.append(f"Compare the slow requests before and after {r.get('api')} on `{r.get('target')}`; roll it back if "
                     "the regression is not acceptable while it is fixed.")
    if top is not None:
        steps.append(f"Profile {g.value_label(top)}: the slow requests concentrate there (traces or a flame graph of one "
                     "slow request against one from the baseline).")
    steps.append("Alarm on the P99 per route against its own baseline, and load-test new versions against it before they "
                 "take all traffic.")
    return Finding(id=ID, title=title, severity=verdict.severity, summary=summary, evidence=ev, remediation=steps,
                   confidence=verdict.confidence, related_changes=m.related, onset=iso_z(s.onset))


def detect(inputs: Inputs) -> Finding | None:
    """``latency-regression`` when the slow share rose significantly from an onset; else ``None``.

    Evidence needed: request latencies of the incident window (and of a baseline window, or of
    the window's first third).
    """
    m = measure(inputs)
    return None if m is None else explain(m, judge(m), inputs)
