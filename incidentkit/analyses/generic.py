"""The generic findings: ``error-spike`` and ``latency-regression``, for causes outside the catalogue.

Most incidents are none of the catalogued causes: an out-of-memory kill after a deploy, a
downstream dependency timing out for one route, a configuration key a deploy forgot, a slower
code path in a new version. What an engineer does by hand in the first half hour is the same
every time, and these detectors do it:

* **when**: the share of failed (or slow) requests rose from an onset by more than the
  baseline's noise explains (:func:`incidentkit.analyses.shift.shift`);
* **what**: which message templates of the error lines are new or grew since
  (:func:`incidentkit.analyses.signatures.signatures`);
* **where**: which route, version, function, host or client the bad requests concentrate in,
  and where their share rose (:func:`incidentkit.analyses.localise.concentration`);
* **what changed just before**: deploys, version and configuration changes on the resources the
  errors concentrate in, nearest first (:func:`incidentkit.analyses.related.related_changes`).

Each detector is three named steps — *measure* (numbers from the analyses), *judge*
(severity and confidence, constants below) and *explain* (title, summary, remediation).
Requests are counted once, at one tier (:func:`incidentkit.analyses.impact.counted`).

Severity is the share of requests the change hurt (:func:`_common.severity_for_share` of the
excess: the failed — or slower than the baseline's P99 — share after the onset minus the
share before), lowered one step when it lasted under five minutes. A shift that is not
significant raises nothing, however large (a handful of requests proves nothing).

Example
-------
>>> from incidentkit.findings import Inputs
>>> detect_error_spike(Inputs()) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..findings import Finding
from ._common import as_utc, fmt_ms, fmt_p, iso_z, pct, severity_for_share
from .impact import counted, counting_tier, failed_mask
from .localise import DIMENSIONS, WHERE, concentration, request_dimensions
from .related import ChangeSpec, related_changes, sentence, targets_from
from .related import evidence as related_evidence
from .shift import Shift, shift
from .signatures import error_lines, line_templates, signatures

__all__ = ["detect_error_spike", "detect_latency_regression", "GENERIC_CHANGES", "GENERIC_IDS"]

#: The ids of the generic findings (ranked below a catalogued cause that fits).
GENERIC_IDS = ("error-spike", "latency-regression")

#: Base confidence of a generic finding: it says where and when, not why.
BASE_CONFIDENCE = 0.4
#: Added when a new or grown signature holds most of the errors (the "what" is known).
SIGNATURE_CONFIDENCE = 0.15
#: Added when the change concentrates in one value of one dimension (the "where" is known).
WHERE_CONFIDENCE = 0.1
#: Added when a change on the concentrated resources came just before (a suspect is known).
CHANGE_CONFIDENCE = 0.1
#: A generic finding never claims the certainty of a catalogued mechanism.
MAX_CONFIDENCE = 0.8
#: A concentration counts when its value holds at least this share of the bad requests
#: (below it the change is spread out, and naming one value would mislead).
MIN_CONCENTRATION = 0.5
#: A signature "holds most of the errors" from this share of the bad requests after the onset.
MIN_SIGNATURE_SHARE = 0.5
#: Slow requests that are mostly failures are the error spike seen through latency.
FAILED_SLOW_SHARE = 0.5
#: Characters of a template quoted in a summary (the evidence keeps it whole).
TEMPLATE_CHARS = 160
#: Entries of the ``signatures`` and ``concentrated_in`` evidence lists.
LIST_LENGTH = 5

#: How long before the onset a change still counts as "just before": a deploy or a configuration change shows within
#: minutes, a slow leak within hours; older changes are in the report's timeline, not in the finding.
RELATED_WITHIN = "3h"

#: The changes that can explain a generic finding, most direct first. Deploys and configuration pushed from
#: elsewhere (AppConfig, parameters, stacks) rarely name the service, so they count unscoped in the two hours
#: before the onset.
GENERIC_CHANGES = ChangeSpec("generic", {
    "code": "new code can fail or slow down where the old did not",
    "alias": "an alias moved traffic to another version",
    "deployment": "a deployment shipped new code or configuration",
    "function-config": "a configuration change (memory, timeout, environment) changed how it runs",
    "config-deployment": "a configuration deployment changed behaviour",
    "parameter": "a parameter change changed behaviour",
    "stack-deployment": "a stack update changed the service",
    "database-config": "a database change altered what the service depends on",
    "scaling": "capacity changed under the service",
}, unscoped={k: "2h" for k in ("deployment", "config-deployment", "parameter", "stack-deployment", "code", "alias",
                                "function-config")}, within=RELATED_WITHIN)


@dataclass
class _Traffic:
    """The requests of both windows at one tier, with their dimensions."""

    rows: pd.DataFrame  # request_dimensions of baseline + incident requests, with "t"
    window: Any
    baseline: Any


def _traffic(inputs: Any) -> _Traffic | None:
    """Measure, part 1: the requests of the baseline and the incident window, counted once, with their dimensions."""
    window = getattr(inputs, "window", None)
    req, base = getattr(inputs, "requests", None), getattr(inputs, "baseline_requests", None)
    if window is None or req is None or len(req) == 0:
        return None
    tier = counting_tier(req)
    logs = [f for f in (getattr(inputs, "baseline_logs", None), getattr(inputs, "logs", None)) if f is not None and len(f)]
    both_logs = pd.concat(logs, ignore_index=True) if logs else None
    lines = error_lines(both_logs)
    templates = None
    if len(lines) and lines["request_id"].notna().any():
        keyed = lines[lines["request_id"].notna().to_numpy(dtype=bool)]
        templates = pd.Series(line_templates(keyed).to_numpy(), index=keyed["request_id"].astype(str).to_numpy())
    frames = [counted(f, tier=tier) for f in (base, req) if f is not None and len(f)]
    rows = request_dimensions(pd.concat(frames, ignore_index=True), both_logs, templates=templates)
    rows = rows.assign(t=as_utc(rows["timestamp"]))
    return _Traffic(rows=rows, window=window, baseline=getattr(inputs, "baseline", None))


def _sides(tr: _Traffic, onset: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window's requests from the onset on, and every request before it (baseline included)."""
    t, w = tr.rows["t"], tr.window
    after = ((t >= onset) & (t < w.end)).fillna(False).to_numpy(dtype=bool)
    return tr.rows.loc[after], tr.rows.loc[~after & (t < onset).fillna(False).to_numpy(dtype=bool)]


def _where(after: pd.DataFrame, before: pd.DataFrame, bad_after: pd.Series, bad_before: pd.Series,
           dimensions: Sequence[str]) -> pd.DataFrame:
    """Measure: where the bad requests concentrate, values whose bad share rose first."""
    conc = concentration(after, bad_after, before=before, bad_before=bad_before, dimensions=dimensions)
    return conc[conc["significant"].astype(bool)] if len(conc) else conc


def _top_where(conc: pd.DataFrame) -> pd.Series | None:
    """The value the change concentrates in: significant, rose, and holds most of the bad requests —
    a place (route, version, host ...) before a kind of outcome (a status, an error type)."""
    if conc.empty:
        return None
    hits = conc[conc["rose"].astype(bool) & (conc["share_of_errors"] >= MIN_CONCENTRATION)]
    places = hits[hits["dimension"].isin(WHERE)]
    hits = places if len(places) else hits
    return hits.iloc[0] if len(hits) else None


def _concentrated_in(conc: pd.DataFrame) -> list[dict[str, Any]]:
    keep = conc[conc["rose"].astype(bool)] if len(conc) else conc
    return [{"dimension": r["dimension"], "value": r["value"], "share_of_errors": float(r["share_of_errors"]),
             "share_of_traffic": float(r["share_of_traffic"])} for _, r in keep.head(LIST_LENGTH).iterrows()]


def _targets(inputs: Any, rows: pd.DataFrame, conc: pd.DataFrame) -> list[Any]:
    """The resources a change could have touched: the functions the bad requests concentrate in (else every
    function serving), the named function, API and ECS service."""
    resources = getattr(inputs, "resources", None) or {}
    hot = conc.loc[conc["dimension"] == "function_name", "value"].tolist() if len(conc) else []
    served = [str(x) for x in rows["function_name"].dropna().unique()[:20]] if "function_name" in rows.columns else []
    out = targets_from(hot or served, resources.get("function_name"), kind="function")
    out += targets_from(resources.get("api_id"), kind="api")
    service, cluster = resources.get("ecs_service"), resources.get("ecs_cluster")
    for svc in ([service] if isinstance(service, str) else list(service or [])):
        out += targets_from(f"{cluster}/{svc}" if cluster and "/" not in str(svc) else svc, kind="ecs_service")
    return out


def _related(inputs: Any, tr: _Traffic, conc: pd.DataFrame, s: Shift) -> list[dict[str, Any]]:
    """Explain: the changes on the resources it concentrates in, before the onset (slack: one bin), nearest first."""
    found = related_changes(getattr(inputs, "changes", None), GENERIC_CHANGES, _targets(inputs, tr.rows, conc),
                            onset=s.onset, window=tr.window, slack=pd.Timedelta(seconds=s.bin_s))
    return sorted(found, key=lambda r: abs(r["lead_s"]) if r.get("lead_s") is not None else float("inf"))


def _shift_evidence(s: Shift, prefix: str) -> dict[str, Any]:
    return {"onset": iso_z(s.onset), f"{prefix}_before": s.before_share, f"{prefix}_after": s.after_share,
            "requests_before": s.before_requests, "requests_after": s.after_requests,
            f"{'failed' if prefix == 'error_rate' else 'slow'}_after": s.after_bad, "dispersion": s.dispersion,
            "p_value": s.p_value, "bin_s": s.bin_s}


def _where_evidence(top: pd.Series | None, conc: pd.DataFrame) -> dict[str, Any]:
    ev: dict[str, Any] = {"concentrated_in": _concentrated_in(conc)}
    if top is not None:
        ev.update({"concentrated_dimension": top["dimension"], "concentrated_value": str(top.get("label", top["value"])),
                   "share_of_errors": float(top["share_of_errors"]), "share_of_traffic": float(top["share_of_traffic"]),
                   "value_bad_share": float(top["bad_share"]), "value_bad_share_before": float(top["bad_share_before"])})
    return ev


def _severity(s: Shift) -> str:
    duration = (s.last_bad - s.onset) if s.last_bad is not None and s.onset is not None else None
    return severity_for_share(s.excess_share, duration=duration)


def _confidence(*, what: bool, where: bool, changed: bool, penalty: float = 0.0) -> float:
    c = BASE_CONFIDENCE + SIGNATURE_CONFIDENCE * what + WHERE_CONFIDENCE * where + CHANGE_CONFIDENCE * changed - penalty
    return float(min(MAX_CONFIDENCE, max(0.05, c)))


def _with_method(top: pd.Series | None, rows: pd.DataFrame) -> pd.Series | None:
    """A route named with its method (``POST /v1/export``) when the route column holds the path alone."""
    if top is None or top["dimension"] != "route" or " " in str(top["value"]) or "method" not in rows.columns:
        return top
    methods = rows.loc[(rows["route"].astype("string") == str(top["value"])).fillna(False).to_numpy(dtype=bool), "method"].dropna()
    if methods.empty or methods.nunique() != 1:
        return top
    return pd.concat([top, pd.Series({"label": f"{methods.iat[0]} {top['value']}"})])


def _value_label(top: pd.Series) -> str:
    dim, value = str(top["dimension"]), str(top.get("label", top["value"]))
    names = {"route": "`{}`", "app_version": "app version `{}`", "function_name": "function `{}`",
             "function_version": "version `{}`", "log_stream": "log stream `{}`", "log_group": "log group `{}`",
             "method": "`{}`", "user_agent_family": "clients of `{}`", "client": "client `{}`"}
    return names.get(dim, f"{dim} `{{}}`").format(value)


def _was(share: Any) -> str:
    """``1.8%`` of the requests before, or ``no request`` when this value had no request before the onset."""
    return "no request" if share is None or pd.isna(share) else pct(share, 1)


def _code(text: str) -> str:
    """A template for a sentence: in backticks, cut to :data:`TEMPLATE_CHARS` characters."""
    return f"`{text if len(text) <= TEMPLATE_CHARS else text[:TEMPLATE_CHARS].rstrip() + ' …'}`"


def _change_clause(related: list[dict[str, Any]], window: Any) -> str:
    if not related:
        return ""
    return f" A change just before: {sentence(related[0], reference=window.start)}"


# --- error-spike -----------------------------------------------------------------------------


def _measure_errors(inputs: Any) -> dict[str, Any] | None:
    """Measure: the shift of the failed share, the signatures from its onset, where it concentrates, the changes."""
    tr = _traffic(inputs)
    if tr is None:
        return None
    bad = failed_mask(tr.rows)
    s = shift(tr.rows["t"], bad, window=tr.window, baseline=tr.baseline)
    if s.onset is None or not s.significant:
        return None
    after, before = _sides(tr, s.onset)
    conc = _where(after, before, bad.loc[after.index], bad.loc[before.index], WHERE)
    base_logs = getattr(inputs, "baseline_logs", None)
    has_baseline = base_logs is not None and len(base_logs) > 0
    # new / grown against the baseline window when there is one; else against the window before the onset
    sig = signatures(getattr(inputs, "logs", None), base_logs, onset=None if has_baseline else s.onset,
                     window=tr.window, baseline_window=tr.baseline, requests=tr.rows)
    return {"traffic": tr, "shift": s, "bad_after": bad.loc[after.index], "after": after, "where": conc,
            "signatures": sig, "related": _related(inputs, tr, conc, s)}


def _lead_signature(sig: pd.DataFrame, failed_after: int) -> tuple[pd.Series | None, bool]:
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


def detect_error_spike(inputs: Any) -> Finding | None:
    """``error-spike``: errors rose from an onset beyond the baseline's noise; what, where, and the change before.

    Evidence needed: requests of the incident window (and a baseline window, or enough of the
    window before the onset) whose failed share rose significantly (:mod:`.shift`). Severity
    from the excess failed share after the onset; see the module docstring.
    """
    m = _measure_errors(inputs)
    if m is None:
        return None
    s: Shift = m["shift"]
    lead, explains = _lead_signature(m["signatures"], s.after_bad)
    top = _with_method(_top_where(m["where"]), m["after"])
    severity = _severity(s)
    confidence = _confidence(what=explains, where=top is not None, changed=bool(m["related"]))
    return _explain_errors(m, lead, top, severity, confidence)


def _signature_evidence(sig: pd.DataFrame, lead: pd.Series | None) -> dict[str, Any]:
    ev: dict[str, Any] = {"signatures": [{"template": str(r["template"]), "count": int(r["count"]),
                                          "new": None if pd.isna(r["new"]) else bool(r["new"])}
                                         for _, r in sig.head(LIST_LENGTH).iterrows()]}
    if lead is not None:
        ev.update({"signature": str(lead["template"]), "signature_count": int(lead["count"]),
                   "signature_baseline_count": int(lead["baseline_count"]),
                   "signature_new": None if pd.isna(lead["new"]) else bool(lead["new"])})
        if not pd.isna(lead["growth"]) and not bool(lead["new"]):
            ev["signature_growth"] = float(lead["growth"])
    return ev


def _failing_with(lead: pd.Series | None, evidence: dict[str, Any]) -> str:
    if lead is None:
        return "fail"
    if evidence.get("signature_new"):
        return f"fail with {_code(lead['template'])} (new; 0 in the baseline)"
    if "signature_growth" in evidence:
        return (f"fail with {_code(lead['template'])} ({evidence['signature_growth']:.1f}x the baseline rate; "
                f"{evidence['signature_baseline_count']} before)")
    return f"fail, most often with {_code(lead['template'])}"


def _explain_errors(m: dict[str, Any], lead: pd.Series | None, top: pd.Series | None, severity: str,
                    confidence: float) -> Finding:
    """Explain: title, summary (every number an evidence value), remediation."""
    s: Shift = m["shift"]
    tr: _Traffic = m["traffic"]
    ev: dict[str, Any] = _shift_evidence(s, "error_rate")
    ev["share_of_requests_failing"] = s.excess_share
    ev.update(_signature_evidence(m["signatures"], lead))
    ev.update(_where_evidence(top, m["where"]))
    codes = pd.to_numeric(m["after"].loc[m["bad_after"].to_numpy(dtype=bool), "status"], errors="coerce").dropna() \
        if "status" in m["after"].columns else pd.Series([], dtype=float)
    if len(codes):
        ev["top_status"] = int(codes.mode().iat[0])
    if s.last_bad is not None:
        ev["errors_until"] = iso_z(s.last_bad)
    ev["related_changes"] = [{"api": r.get("api"), "target": r.get("target"), "lead_s": r.get("lead_s")} for r in m["related"][:3]]
    if m["related"]:
        ev.update(related_evidence(m["related"][0]))
    when = s.onset.strftime("%H:%M")
    failing = _failing_with(lead, ev)
    if top is not None:
        head = f"From {when} UTC, {pct(top['bad_share'], 0)} of {_value_label(top)} requests {failing}"
        tail = (f", against {_was(top['bad_share_before'])} before; they hold {pct(top['share_of_errors'], 0)} of the "
                f"failures with {pct(top['share_of_traffic'], 0)} of the traffic.")
    else:
        head = f"From {when} UTC, {pct(s.after_share, 1)} of requests {failing}"
        tail = f", up from {pct(s.before_share, 1)} before."
    summary = (f"{head}{tail} {pct(s.excess_share, 1)} of all requests since the onset failed beyond the earlier rate "
               f"({fmt_p(s.p_value)}, against the baseline's own variation).{_change_clause(m['related'], tr.window)}")
    where = f" in {_value_label(top)}" if top is not None else ""
    title = f"Errors rose from {when} UTC{where}: {pct(s.after_share, 1)} of requests failing (was {pct(s.before_share, 1)})"
    return Finding(id="error-spike", title=title, severity=severity, summary=summary, evidence=ev,
                   remediation=_error_remediation(lead, top, m["related"]), confidence=confidence,
                   related_changes=m["related"], onset=iso_z(s.onset))


def _error_remediation(lead: pd.Series | None, top: pd.Series | None, related: list[dict[str, Any]]) -> list[str]:
    steps = []
    if related:
        r = related[0]
        steps.append(f"Roll back the change just before the onset ({r.get('api')} on `{r.get('target')}`) and watch the "
                     "error rate return to the baseline; keep it rolled back until the cause is fixed.")
    if lead is not None:
        steps.append(f"Read the example lines of {_code(lead['template'])} (the report's \"What is new in the logs\") and "
                     "fix the code or configuration path they name; add a test that reproduces it.")
    if top is not None:
        steps.append(f"Look at {_value_label(top)} first: the failures concentrate there, the rest of the traffic is "
                     "near its baseline rate.")
    steps.append("Alarm on the error rate per route and version (a metric filter or EMF dimensions), and deploy with a "
                 "canary that rolls back automatically on it.")
    return steps


# --- latency-regression ----------------------------------------------------------------------


def _latency_threshold(tr: _Traffic) -> float | None:
    """The baseline's P99 (requests before the window), else the P99 of the window's first third."""
    lat = pd.to_numeric(tr.rows.get("latency_ms"), errors="coerce")
    if lat is None or lat.notna().sum() == 0:
        return None
    t, w = tr.rows["t"], tr.window
    before = lat[(t < w.start).fillna(False).to_numpy(dtype=bool)].dropna()
    if len(before) < 100:
        first = lat[((t >= w.start) & (t < w.start + (w.end - w.start) / 3)).fillna(False).to_numpy(dtype=bool)].dropna()
        before = pd.concat([before, first])
    return float(before.quantile(0.99)) if len(before) >= 100 else None


def _quantiles(lat: pd.Series) -> tuple[float, float]:
    lat = lat.dropna()
    return (float(lat.quantile(0.5)), float(lat.quantile(0.99))) if len(lat) else (np.nan, np.nan)


def _measure_latency(inputs: Any) -> dict[str, Any] | None:
    """Measure: the shift of the share slower than the baseline's P99, its percentiles before and after, where, the changes."""
    tr = _traffic(inputs)
    if tr is None or "latency_ms" not in tr.rows.columns:
        return None
    threshold = _latency_threshold(tr)
    if threshold is None:
        return None
    lat = pd.to_numeric(tr.rows["latency_ms"], errors="coerce")
    has = lat.notna().to_numpy(dtype=bool)
    tr = _Traffic(rows=tr.rows.loc[has], window=tr.window, baseline=tr.baseline)
    slow = lat[has] > threshold
    s = shift(tr.rows["t"], slow, window=tr.window, baseline=tr.baseline)
    if s.onset is None or not s.significant:
        return None
    after, before = _sides(tr, s.onset)
    conc = _where(after, before, slow.loc[after.index], slow.loc[before.index], DIMENSIONS)
    failed = failed_mask(after)[slow.loc[after.index].to_numpy(dtype=bool)]
    return {"traffic": tr, "shift": s, "threshold": threshold, "where": conc, "after": after, "before": before,
            "failed_share_of_slow": float(failed.mean()) if len(failed) else 0.0,
            "related": _related(inputs, tr, conc, s)}


def detect_latency_regression(inputs: Any) -> Finding | None:
    """``latency-regression``: the share of requests slower than the baseline's P99 rose from an onset.

    Evidence needed: request latencies of the incident window (and of a baseline window, or
    of the window's first third). A tail that only fails (timeouts behind an error spike) lowers
    confidence: that is the error spike seen through latency.
    """
    m = _measure_latency(inputs)
    if m is None:
        return None
    s: Shift = m["shift"]
    top = _with_method(_top_where(m["where"]), m["after"])
    severity = _severity(s)
    penalty = CHANGE_CONFIDENCE if m["failed_share_of_slow"] >= FAILED_SLOW_SHARE else 0.0
    confidence = _confidence(what=False, where=top is not None, changed=bool(m["related"]), penalty=penalty)
    return _explain_latency(m, top, severity, confidence)


def _explain_latency(m: dict[str, Any], top: pd.Series | None, severity: str, confidence: float) -> Finding:
    """Explain: title, summary (every number an evidence value), remediation."""
    s: Shift = m["shift"]
    tr: _Traffic = m["traffic"]
    p50_b, p99_b = _quantiles(pd.to_numeric(m["before"]["latency_ms"], errors="coerce"))
    p50_a, p99_a = _quantiles(pd.to_numeric(m["after"]["latency_ms"], errors="coerce"))
    ev: dict[str, Any] = {"onset": iso_z(s.onset), "p50_before_ms": p50_b, "p50_after_ms": p50_a, "p99_before_ms": p99_b,
                          "p99_after_ms": p99_a}
    ev.update(_shift_evidence(s, "slow_share"))
    ev.update({"slow_threshold_ms": m["threshold"], "share_of_requests_slow": s.excess_share,
               "failed_share_of_slow": m["failed_share_of_slow"]})
    ev.update(_where_evidence(top, m["where"]))
    ev["related_changes"] = [{"api": r.get("api"), "target": r.get("target"), "lead_s": r.get("lead_s")} for r in m["related"][:3]]
    if m["related"]:
        ev.update(related_evidence(m["related"][0]))
    when = s.onset.strftime("%H:%M")
    where = f" in {_value_label(top)}" if top is not None else ""
    title = f"Latency rose from {when} UTC{where}: P99 {fmt_ms(p99_b)} → {fmt_ms(p99_a)}, P50 {fmt_ms(p50_b)} → {fmt_ms(p50_a)}"
    if top is not None:
        lead = (f"From {when} UTC, {pct(top['bad_share'], 0)} of {_value_label(top)} requests are slower than the "
                f"baseline's P99 of {fmt_ms(m['threshold'])} ({_was(top['bad_share_before'])} before); they hold "
                f"{pct(top['share_of_errors'], 0)} of the slow requests with {pct(top['share_of_traffic'], 0)} of the traffic.")
    else:
        lead = (f"From {when} UTC, {pct(s.after_share, 1)} of requests are slower than the baseline's P99 of "
                f"{fmt_ms(m['threshold'])} (was {pct(s.before_share, 1)}).")
    summary = (f"{lead} Overall P50 went from {fmt_ms(p50_b)} to {fmt_ms(p50_a)} and P99 from {fmt_ms(p99_b)} to "
               f"{fmt_ms(p99_a)} ({fmt_p(s.p_value)}, against the baseline's own variation).{_change_clause(m['related'], tr.window)}")
    steps = []
    if m["related"]:
        r = m["related"][0]
        steps.append(f"Compare the slow requests before and after {r.get('api')} on `{r.get('target')}`; roll it back if "
                     "the regression is not acceptable while it is fixed.")
    if top is not None:
        steps.append(f"Profile {_value_label(top)}: the slow requests concentrate there (traces or a flame graph of one "
                     "slow request against one from the baseline).")
    steps.append("Alarm on the P99 per route against its own baseline, and load-test new versions against it before they "
                 "take all traffic.")
    return Finding(id="latency-regression", title=title, severity=severity, summary=summary, evidence=ev, remediation=steps,
                   confidence=confidence, related_changes=m["related"], onset=iso_z(s.onset))
