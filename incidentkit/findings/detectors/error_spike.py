"""``error-spike``: errors rose from an onset beyond the baseline's noise; what, where, and the change before.

measure → judge → explain (see :mod:`._generic` for what the two generic findings share):

* **measure**: the requests of both windows counted once; the shift of the failed share
  (:func:`incidentkit.analyses.shift.shift`); where the failures concentrate; the error
  signatures new or grown against the baseline (:func:`incidentkit.analyses.signatures.signatures`);
  the changes just before.
* **judge**: severity from the excess failed share; confidence from what is known.
* **explain**: "From 14:02 UTC, 31% of `POST /v1/export` requests fail with `...` (new; 0 in the
  baseline), against 0.0% before ..." — every number an evidence value.

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

from ...analyses._common import fmt_p, iso_z, pct
from ...analyses.impact import failed_mask
from ...analyses.localise import WHERE
from ...analyses.shift import Shift, shift
from ...analyses.signatures import window_signatures
from ..model import Finding, Inputs
from . import _generic as g

__all__ = ["ID", "NEEDS", "ErrorMeasures", "measure", "judge", "explain", "detect"]

ID = "error-spike"
NEEDS = ("requests", "baseline_requests", "logs", "baseline_logs", "error_lines", "signatures", "window", "baseline", "changes",
         "resources")

#: A signature "holds most of the errors" from this share of the failed requests after the onset.
MIN_SIGNATURE_SHARE = 0.5


@dataclass
class ErrorMeasures:
    """What :func:`measure` found: the shift, the requests after it, where, what (signatures), the changes."""

    traffic: g.Traffic
    shift: Shift
    after: pd.DataFrame
    failed_after: pd.Series
    where: pd.DataFrame
    top: pd.Series | None
    signatures: pd.DataFrame
    lead: pd.Series | None
    lead_explains: bool
    related: list[dict[str, Any]]


def lead_signature(sig: pd.DataFrame, failed_after: int) -> tuple[pd.Series | None, bool]:
    """The signature to name, and whether it holds most of the errors.

    Among the new or grown signatures that hold most of the failures, the one that changed the
    most (new before grown, then the largest growth): a request-completion line logged at ERROR
    grows with every failure too, the distinctive message grows more. Else the first new or grown
    one; else the most frequent.
    """
    if sig.empty:
        return None, False
    changed = sig[sig["new"].fillna(False).astype(bool) | sig["grown"].fillna(False).astype(bool)]
    if changed.empty:
        return sig.iloc[0], False
    most = changed[changed["count"] >= MIN_SIGNATURE_SHARE * max(failed_after, 1)]
    if most.empty:
        return changed.iloc[0], False
    key = np.where(most["new"].fillna(False).astype(bool), np.inf, most["growth"].fillna(0).to_numpy(dtype=float))
    return most.iloc[int(np.argmax(key))], failed_after > 0


def _signatures(inputs: Inputs, onset: pd.Timestamp) -> pd.DataFrame:
    """New or grown against the baseline window when there is one (the investigation's collected
    ``signatures`` when it holds them); else against the part of the window before the onset."""
    base_logs = inputs.baseline_logs
    if base_logs is not None and len(base_logs) and inputs.signatures is not None:
        return inputs.signatures
    has_baseline = base_logs is not None and len(base_logs) > 0
    return window_signatures(inputs.logs, base_logs, inputs.requests, inputs.baseline_requests, window=inputs.window,
                             baseline_window=inputs.baseline, onset=None if has_baseline else onset)


def measure(inputs: Inputs) -> ErrorMeasures | None:
    """The shift of the failed share; ``None`` when there is none beyond the baseline's noise."""
    tr = g.traffic(inputs)
    if tr is None:
        return None
    bad = failed_mask(tr.rows)
    s = shift(tr.rows["t"], bad, window=tr.window, baseline=tr.baseline)
    if s.onset is None or not s.significant:
        return None
    after, before = g.sides(tr, s.onset)
    conc = g.where(after, before, bad.loc[after.index], bad.loc[before.index], WHERE,
                   known=g.coded_traffic(inputs))
    sig = _signatures(inputs, s.onset)
    lead, explains = lead_signature(sig, s.after_bad)
    return ErrorMeasures(traffic=tr, shift=s, after=after, failed_after=bad.loc[after.index], where=conc,
                         top=g.with_method(g.top_where(conc), after), signatures=sig, lead=lead, lead_explains=explains,
                         related=g.related(inputs, tr, conc, s))


def judge(m: ErrorMeasures) -> g.Verdict:
    """Severity from the excess failed share; confidence from the message, the place and a change before."""
    return g.verdict(m.shift, what=m.lead_explains, where=m.top is not None, changed=bool(m.related))


def _signature_evidence(sig: pd.DataFrame, lead: pd.Series | None) -> dict[str, Any]:
    ev: dict[str, Any] = {"signatures": [{"template": str(r["template"]), "count": int(r["count"]),
                                          "new": None if pd.isna(r["new"]) else bool(r["new"])}
                                         for _, r in sig.head(g.LIST_LENGTH).iterrows()]}
    if lead is not None:
        ev.update({"template": str(lead["template"]), "template_count": int(lead["count"]),
                   "template_baseline_count": int(lead["baseline_count"]),
                   "template_new": None if pd.isna(lead["new"]) else bool(lead["new"])})
        if not pd.isna(lead["growth"]) and not bool(lead["new"]):
            ev["template_growth"] = float(lead["growth"])
    return ev


def _failing_with(lead: pd.Series | None, evidence: dict[str, Any]) -> str:
    if lead is None:
        return "fail"
    if evidence.get("template_new"):
        return f"fail with {g.code(lead['template'])} (new; 0 in the baseline)"
    if "template_growth" in evidence:
        return (f"fail with {g.code(lead['template'])} ({evidence['template_growth']:.1f}x the baseline rate; "
                f"{evidence['template_baseline_count']} before)")
    return f"fail, most often with {g.code(lead['template'])}"


def _evidence(m: ErrorMeasures) -> dict[str, Any]:
    s = m.shift
    ev: dict[str, Any] = g.shift_evidence(s, "error_rate", "failed")
    ev["share_of_requests_failing"] = s.excess_share
    ev.update(_signature_evidence(m.signatures, m.lead))
    ev.update(g.where_evidence(m.top, m.where))
    codes = (pd.to_numeric(m.after.loc[m.failed_after.to_numpy(dtype=bool), "status"], errors="coerce").dropna()
             if "status" in m.after.columns else pd.Series([], dtype=float))
    if len(codes):
        ev["top_status"] = int(codes.mode().iat[0])
    if s.last_bad is not None:
        ev["errors_until"] = iso_z(s.last_bad)
    ev.update(g.related_list_evidence(m.related))
    return g.headline_first(ev)


def explain(m: ErrorMeasures, verdict: g.Verdict, inputs: Inputs | None = None) -> Finding:
    """Title, summary (every number an evidence value) and remediation."""
    s, top = m.shift, m.top
    ev = _evidence(m)
    when = s.onset.strftime("%H:%M")
    failing = _failing_with(m.lead, ev)
    change = g.change_clause(m.related, m.traffic.window)
    overall = (f"{pct(s.excess_share, 1)} of all requests since {when} UTC failed beyond the earlier rate "
               f"({fmt_p(s.p_value)} against the baseline's own variation)")
    if top is not None:
        before = ("it had no request before" if pd.isna(top["bad_share_before"])
                  else f"{pct(top['bad_share_before'], 1)} of them failed before")
        summary = (f"From {when} UTC, {pct(top['bad_share'], 0)} of {g.value_label(top)} requests {failing}{change}. "
                   f"{before[:1].upper()}{before[1:]}; they hold {pct(top['share_of_errors'], 0)} of the failures with "
                   f"{pct(top['share_of_traffic'], 0)} of the traffic, and {overall}.")
    else:
        summary = (f"From {when} UTC, {pct(s.after_share, 1)} of requests {failing}{change}, against "
                   f"{pct(s.before_share, 1)} before: {overall}.")
    if top is not None:
        title = (f"Errors rose from {when} UTC in {g.value_label(top)}: {pct(top['bad_share'], 0)} of its requests failing "
                 f"({g.was(top['bad_share_before'])})")
    else:
        title = f"Errors rose from {when} UTC: {pct(s.after_share, 1)} of requests failing (was {pct(s.before_share, 1)})"
    return Finding(id=ID, title=title, severity=verdict.severity, summary=summary, evidence=ev,
                   remediation=_remediation(m), confidence=verdict.confidence, related_changes=m.related,
                   onset=iso_z(s.onset))


def _remediation(m: ErrorMeasures) -> list[str]:
    steps = []
    if m.related:
        r = m.related[0]
        steps.append(f"Roll back the change just before the onset ({r.get('api')} on `{r.get('target')}`) and watch the "
                     "error rate return to the baseline; keep it rolled back until the cause is fixed.")
    if m.lead is not None:
        steps.append(f"Read the example lines of {g.code(m.lead['template'])} (the report's \"What is new in the logs\") "
                     "and fix the code or configuration path they name; add a test that reproduces it.")
    if m.top is not None:
        steps.append(f"Look at {g.value_label(m.top)} first: the failures concentrate there, the rest of the traffic is "
                     "near its baseline rate.")
    steps.append("Alarm on the error rate per route and version (a metric filter or EMF dimensions), and deploy with a "
                 "canary that rolls back automatically on it.")
    return steps


def detect(inputs: Inputs) -> Finding | None:
    """``error-spike`` when the failed share rose significantly from an onset; else ``None``.

    Evidence needed: requests of the incident window (and a baseline window, or enough of the
    window before the onset) whose failed share rose beyond the baseline's variation.
    """
    m = measure(inputs)
    return None if m is None else explain(m, judge(m), inputs)
