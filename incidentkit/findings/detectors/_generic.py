"""What the two generic findings (``error-spike``, ``latency-regression``) share: the requests of both
windows with their dimensions, where the bad ones concentrate, the changes just before, and the words.

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

Severity is the share of requests the change hurt (:func:`severity_for_share` of the excess:
the bad share after the onset minus the share before), lowered one step when it lasted under
five minutes. A shift that is not significant raises nothing, however large.

Example
-------
>>> confidence(what=True, where=True, changed=True)
0.75
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from ...analyses._common import as_utc, iso_z, pct, severity_for_share
from ...analyses.impact import counted, counting_tier
from ...analyses.localise import WHERE, Coded, coded, concentration, request_dimensions
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...analyses.shift import Shift
from ...analyses.signatures import error_lines, line_templates
from ..model import Inputs
from ._common import Score, Verdict

__all__ = ["Verdict", "Traffic", "traffic", "coded_traffic", "sides", "where", "top_where", "with_method", "related", "severity",
           "score", "confidence", "verdict", "shift_evidence", "where_evidence", "related_list_evidence", "value_label", "was", "code",
           "change_clause", "headline_first", "HEADLINE_KEYS", "GENERIC_CHANGES", "CHANGE_CONFIDENCE"]

#: Base confidence of a generic finding: it says where and when, not why.
BASE_CONFIDENCE = 0.4
#: Added when a new or grown signature holds most of the errors (the "what" is known).
SIGNATURE_CONFIDENCE = 0.15
#: Added when the change concentrates in one value of one dimension (the "where" is known).
WHERE_CONFIDENCE = 0.1
#: Added when a change on the concentrated resources came just before (a suspect is known).
CHANGE_CONFIDENCE = 0.1
#: A generic finding never claims the certainty of a catalogued mechanism, nor is it ever certain of nothing.
MAX_CONFIDENCE, MIN_CONFIDENCE = 0.8, 0.05
#: A concentration counts when its value holds at least this share of the bad requests
#: (below it the change is spread out, and naming one value would mislead).
MIN_CONCENTRATION = 0.5
#: Characters of a template quoted in a summary (the evidence keeps it whole).
TEMPLATE_CHARS = 160
#: Entries of the ``signatures``, ``concentrated_in`` and ``related_changes`` evidence lists.
LIST_LENGTH, RELATED_LENGTH = 5, 3
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
class Traffic:
    """The requests of both windows at one tier, with their dimensions (:func:`request_dimensions`) and ``t``."""

    rows: pd.DataFrame
    window: Any
    baseline: Any


def traffic(inputs: Any) -> Traffic | None:
    """The requests of the baseline and the incident window, counted once, with their dimensions
    (the error lines' templates joined by request id); ``None`` without a window or requests.

    Built once per :class:`~incidentkit.findings.model.Inputs` (:meth:`~incidentkit.findings.model.Inputs.shared`):
    both generic detectors read the same frame, which neither modifies.
    """
    if isinstance(inputs, Inputs):  # a stand-in object (a test's namespace) computes it afresh
        return inputs.shared("generic.traffic", _traffic)
    return _traffic(inputs)


def coded_traffic(inputs: Any) -> Coded | None:
    """The dimensions of :func:`traffic`'s rows as text codes (:func:`~incidentkit.analyses.localise.coded`), made once
    per :class:`~incidentkit.findings.model.Inputs` for both generic detectors' :func:`where` (their parts of it)."""
    if isinstance(inputs, Inputs):
        return inputs.shared("generic.coded", _coded_traffic)
    return _coded_traffic(inputs)


def _coded_traffic(inputs: Any) -> Coded | None:
    tr = traffic(inputs)
    return coded(tr.rows) if tr is not None else None


def _traffic(inputs: Any) -> Traffic | None:
    window = getattr(inputs, "window", None)
    req, base = getattr(inputs, "requests", None), getattr(inputs, "baseline_requests", None)
    if window is None or req is None or len(req) == 0:
        return None
    tier = counting_tier(req)
    logs = [f for f in (getattr(inputs, "baseline_logs", None), getattr(inputs, "logs", None)) if f is not None and len(f)]
    both_logs = pd.concat(logs, ignore_index=True) if logs else None
    held = getattr(inputs, "error_lines", None)  # read once by the investigation, for its signatures too
    lines = held if held is not None else error_lines(both_logs)
    templates = None
    if len(lines) and lines["request_id"].notna().any():
        keyed = lines[lines["request_id"].notna().to_numpy(dtype=bool)]
        templates = pd.Series(line_templates(keyed).to_numpy(), index=keyed["request_id"].astype(str).to_numpy())
    frames = [counted(f, tier=tier) for f in (base, req) if f is not None and len(f)]
    rows = request_dimensions(pd.concat(frames, ignore_index=True), both_logs, templates=templates)
    return Traffic(rows=rows.assign(t=as_utc(rows["timestamp"])), window=window, baseline=getattr(inputs, "baseline", None))


def sides(tr: Traffic, onset: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window's requests from the onset on, and every request before it (baseline included)."""
    t, w = tr.rows["t"], tr.window
    after = ((t >= onset) & (t < w.end)).fillna(False).to_numpy(dtype=bool)
    return tr.rows.loc[after], tr.rows.loc[~after & (t < onset).fillna(False).to_numpy(dtype=bool)]


def where(after: pd.DataFrame, before: pd.DataFrame, bad_after: pd.Series, bad_before: pd.Series,
          dimensions: Sequence[str], *, known: Coded | None = None) -> pd.DataFrame:
    """Where the bad requests concentrate (significant values only), values whose bad share rose first; ``known``:
    the :func:`coded_traffic` ``after`` and ``before`` are parts of."""
    conc = concentration(after, bad_after, before=before, bad_before=bad_before, dimensions=dimensions, known=known)
    return conc[conc["significant"].astype(bool)] if len(conc) else conc


def top_where(conc: pd.DataFrame) -> pd.Series | None:
    """The value the change concentrates in: significant, rose, and holds most of the bad requests —
    a place (route, version, host ...) before a kind of outcome (a status, an error type)."""
    if conc.empty:
        return None
    hits = conc[conc["rose"].astype(bool) & (conc["share_of_errors"] >= MIN_CONCENTRATION)]
    places = hits[hits["dimension"].isin(WHERE)]
    hits = places if len(places) else hits
    return hits.iloc[0] if len(hits) else None


def with_method(top: pd.Series | None, rows: pd.DataFrame) -> pd.Series | None:
    """A route named with its method (``POST /v1/export``) when the route column holds the path alone."""
    if top is None or top["dimension"] != "route" or " " in str(top["value"]) or "method" not in rows.columns:
        return top
    methods = rows.loc[(rows["route"].astype("string") == str(top["value"])).fillna(False).to_numpy(dtype=bool), "method"].dropna()
    if methods.empty or methods.nunique() != 1:
        return top
    return pd.concat([top, pd.Series({"label": f"{methods.iat[0]} {top['value']}"})])


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


def related(inputs: Any, tr: Traffic, conc: pd.DataFrame, s: Shift) -> list[dict[str, Any]]:
    """The changes on the resources it concentrates in, before the onset (slack: one bin), nearest first."""
    found = related_changes(getattr(inputs, "changes", None), GENERIC_CHANGES, _targets(inputs, tr.rows, conc),
                            onset=s.onset, window=tr.window, slack=pd.Timedelta(seconds=s.bin_s))
    return sorted(found, key=lambda r: abs(r["lead_s"]) if r.get("lead_s") is not None else float("inf"))


def severity(s: Shift) -> str:
    """From the excess share of bad requests; one step lower when the bad requests lasted under five minutes."""
    duration = (s.last_bad - s.onset) if s.last_bad is not None and s.onset is not None else None
    return severity_for_share(s.excess_share, duration=duration)


def score(*, what: bool, where: bool, changed: bool, penalty: float = 0.0, penalty_why: str = "") -> Score:
    """:data:`BASE_CONFIDENCE` plus what is known (the message, the place, a change before), minus a penalty, each
    with its reason."""
    s = Score(BASE_CONFIDENCE, "a significant shift from an onset: when and how much, not why")
    s.add(SIGNATURE_CONFIDENCE, "a new or grown message holds most of the errors (what)", when=what)
    s.add(WHERE_CONFIDENCE, "it concentrates in one value of one dimension (where)", when=where)
    s.add(CHANGE_CONFIDENCE, "a change on those resources came just before (a suspect)", when=changed)
    s.add(-penalty, penalty_why, when=penalty != 0)
    return s


def confidence(*, what: bool, where: bool, changed: bool, penalty: float = 0.0) -> float:
    """The :func:`score` rounded and kept within :data:`MIN_CONFIDENCE` .. :data:`MAX_CONFIDENCE`."""
    return float(min(MAX_CONFIDENCE, max(MIN_CONFIDENCE, round(score(what=what, where=where, changed=changed,
                                                                      penalty=penalty).value, 4))))


def verdict(s: Shift, *, what: bool, where: bool, changed: bool, penalty: float = 0.0, penalty_why: str = "") -> Verdict:
    """The :class:`~._common.Verdict` of a generic finding: :func:`severity` and :func:`confidence`, with the reasons."""
    sc = score(what=what, where=where, changed=changed, penalty=penalty, penalty_why=penalty_why)
    return sc.verdict(severity(s), confidence(what=what, where=where, changed=changed, penalty=penalty))


def shift_evidence(s: Shift, prefix: str, bad: str) -> dict[str, Any]:
    """The shift's numbers as evidence: ``<prefix>_before/_after`` shares, requests, ``<bad>_after``, the test."""
    return {"onset": iso_z(s.onset), f"{prefix}_before": s.before_share, f"{prefix}_after": s.after_share,
            "requests_before": s.before_requests, "requests_after": s.after_requests, f"{bad}_after": s.after_bad,
            "dispersion": s.dispersion, "p_value": s.p_value, "bin_s": s.bin_s}


def where_evidence(top: pd.Series | None, conc: pd.DataFrame) -> dict[str, Any]:
    """``concentrated_in`` (the values whose bad share rose) and, with a top value, its shares."""
    keep = conc[conc["rose"].astype(bool)] if len(conc) else conc
    ev: dict[str, Any] = {"concentrated_in": [
        {"dimension": r["dimension"], "value": r["value"], "share_of_errors": float(r["share_of_errors"]),
         "share_of_traffic": float(r["share_of_traffic"])} for _, r in keep.head(LIST_LENGTH).iterrows()]}
    if top is not None:
        ev.update({"concentrated_dimension": top["dimension"], "concentrated_value": str(top.get("label", top["value"])),
                   "share_of_errors": float(top["share_of_errors"]), "share_of_traffic": float(top["share_of_traffic"]),
                   "value_bad_share": float(top["bad_share"]), "value_bad_share_before": float(top["bad_share_before"])})
    return ev


def related_list_evidence(found: list[dict[str, Any]]) -> dict[str, Any]:
    """``related_changes`` (api, target, lead) of the nearest few, and the nearest one's own keys."""
    ev: dict[str, Any] = {"related_changes": [{"api": r.get("api"), "target": r.get("target"), "lead_s": r.get("lead_s")}
                                              for r in found[:RELATED_LENGTH]]}
    if found:
        ev.update(related_evidence(found[0]))
    return ev


#: Evidence keys a reader wants first (a report card opens with them): when, where, what, how much, the change.
HEADLINE_KEYS = ("onset", "concentrated_dimension", "concentrated_value", "value_bad_share", "value_bad_share_before",
                 "value_p50_before_ms", "value_p50_after_ms", "value_p99_before_ms", "value_p99_after_ms",
                 "share_of_errors", "share_of_traffic", "template", "template_new", "template_count",
                 "template_baseline_count", "template_growth", "error_rate_before", "error_rate_after",
                 "share_of_requests_failing", "p50_before_ms", "p50_after_ms", "p99_before_ms", "p99_after_ms",
                 "slow_share_before", "slow_share_after", "share_of_requests_slow", "p_value", "change", "change_at",
                 "change_resource", "change_lead_s")


def headline_first(ev: dict[str, Any]) -> dict[str, Any]:
    """``ev`` with :data:`HEADLINE_KEYS` first, in that order, then the rest as they came.

    Example
    -------
    >>> list(headline_first({"bin_s": 60, "p_value": 0.001, "onset": "14:02"}))
    ['onset', 'p_value', 'bin_s']
    """
    first = {k: ev[k] for k in HEADLINE_KEYS if k in ev}
    return {**first, **{k: v for k, v in ev.items() if k not in first}}


def value_label(top: pd.Series) -> str:
    """``POST /v1/export`` in backticks, ``app version `2.1` ``, ``function `export-fn` ``, ..."""
    dim, value = str(top["dimension"]), str(top.get("label", top["value"]))
    names = {"route": "`{}`", "app_version": "app version `{}`", "function_name": "function `{}`",
             "function_version": "version `{}`", "log_stream": "log stream `{}`", "log_group": "log group `{}`",
             "method": "`{}`", "user_agent_family": "clients of `{}`", "client": "client `{}`"}
    return names.get(dim, f"{dim} `{{}}`").format(value)


def was(share: Any) -> str:
    """``1.8% before``, or ``no request before`` when this value had no request before the onset."""
    return "no request before" if share is None or pd.isna(share) else f"{pct(share, 1)} before"


def code(text: str) -> str:
    """A template for a sentence: in backticks, cut to :data:`TEMPLATE_CHARS` characters."""
    return f"`{text if len(text) <= TEMPLATE_CHARS else text[:TEMPLATE_CHARS].rstrip() + ' …'}`"


def change_clause(found: list[dict[str, Any]], window: Any) -> str:
    """``, right after <the nearest change in words>, 5 s before the onset`` or nothing.

    Example
    -------
    >>> rec = {"api": "UpdateAlias", "timestamp": "2026-07-21T14:02:03Z", "lead_s": 5.0, "target": "export-fn:live",
    ...        "detail": '{"event_source":"lambda.amazonaws.com","params":{"functionName":"export-fn","name":"live",'
    ...                  '"functionVersion":"42"}}', "event_name": "UpdateAlias20150331", "actor": None}
    >>> change_clause([rec], type("W", (), {"start": pd.Timestamp("2026-07-21T14:00Z")})())[:40]
    ', right after alias `live` of `export-fn'
    """
    if not found:
        return ""
    text = sentence(found[0], reference=window.start).rstrip(".")
    if len(text) > 1 and text[1].islower():  # "Alias ..." reads "alias ..." mid-sentence; "ECS service ..." stays
        text = text[0].lower() + text[1:]
    return f", right after {text}"
