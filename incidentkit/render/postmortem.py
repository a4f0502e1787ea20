"""Blameless postmortems generated from an investigation's evidence and findings.

:func:`build` turns what an :class:`~incidentkit.investigation.Investigation` fetched and
the findings into facts — impact (requests and clients affected, by version; duration),
a timeline (changes, onset, detection, mitigation), root cause and contributing factors,
action items from the remediations, and links to the evidence — and :func:`markdown`
writes them as a postmortem draft. Each part says when the evidence for it is missing
instead of guessing.

Blameless: people are never named. A change is attributed to the kind of principal that
made it ("an IAM user", "role deploy-pipeline"), which is what the reader needs to fix
the process.

Example
-------
>>> [a["priority"] for a in actions([{"id": "x", "severity": "high", "remediation": ["Roll back", "roll  back"]}])]
['P1']
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..analyses import impact as _impact
from .._util.blameless import blameless_actor, blameless_text
from ..fetch.changes import normalize_event_name
from .._util.fmt import iso as _iso
from .postmortem_doc import PRIORITY, actions, markdown

__all__ = ["build", "markdown", "impact", "with_layout_names", "timeline", "actions", "blameless_actor", "blameless_text",
           "PRIORITY"]



def _num(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 4)
    return value


# -- facts ------------------------------------------------------------------------------------


def impact(requests: pd.DataFrame | None, baseline_requests: pd.DataFrame | None = None, *,
           window: Any = None, baseline_window: Any = None, latency_slo_ms: float | None = None) -> dict[str, Any]:
    """Who and how much, each request counted once (:func:`incidentkit.analyses.impact.impact`),
    with the names this module's Markdown reads.

    The keys of :mod:`incidentkit.analyses.impact` (``counted``, ``failed_requests``,
    ``slow_requests``, ``failed_clients``, ``onset``, ``recovered``, ``duration_s`` ...) plus
    their older names, same values: ``failed``, ``error_rate``, ``error_rate_5xx``,
    ``clients_affected``, ``baseline_requests``, ``baseline_error_rate``, ``baseline_p99_ms``,
    ``duration_min`` and ``duration_basis``; ``by_version`` rows carry ``error_rate`` and
    ``clients_affected`` too.

    Example
    -------
    >>> impact(None)["note"]
    'no request-level logs in the evidence: impact in requests is unknown'
    """
    return with_layout_names(_impact.impact(requests, baseline_requests, window=window, baseline_window=baseline_window,
                                            latency_slo_ms=latency_slo_ms))


def with_layout_names(imp: Mapping[str, Any]) -> dict[str, Any]:
    """An impact (:func:`incidentkit.analyses.impact.impact`) with the older key names the
    Markdown layout reads added, same values."""
    out = dict(imp)
    if not out.get("requests"):
        return out
    base = out.get("baseline") or {}
    n = out["requests"]
    out.update(failed=out.get("failed_requests"), error_rate=out.get("failed_share"),
               error_rate_5xx=_num(out["failed_5xx"] / n) if n else None, clients_affected=out.get("failed_clients"),
               baseline_requests=base.get("requests"), baseline_error_rate=base.get("failed_share"),
               baseline_p99_ms=base.get("p99_ms"))
    out["by_version"] = [dict(v, error_rate=v.get("failed_share"), clients_affected=v.get("failed_clients"))
                         for v in out.get("by_version") or []]
    if out.get("duration_s") is not None:
        out["duration_min"] = _num(out["duration_s"] / 60)
        out["duration_basis"] = ("from the onset to the recovery" if out.get("recovered")
                                 else "from the onset to the end of the investigated window, not recovered in it")
    return out


def _known(value: Any) -> str | None:
    """A change field as text, or None when missing (None, NA, NaN, empty)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return None if text in ("", "<NA>", "nan", "None") else text


def timeline(changes: pd.DataFrame | None, findings: Sequence[Mapping[str, Any]], *, window: Any = None,
             detection: Any = None, recovery: str | None = None, onset: Any = None, limit: int = 25) -> list[dict[str, Any]]:
    """Changes, onset, detection and mitigation on one UTC time line."""
    items: list[dict[str, Any]] = []
    if window is not None:
        items.append({"time": _iso(window.start), "kind": "window", "text": "investigated window starts"})
        items.append({"time": _iso(window.end), "kind": "window", "text": "investigated window ends"})
    if changes is not None and len(changes):
        ch = changes.sort_values("timestamp")
        significant = ch[ch["class"].astype("string").fillna("OTHER") != "OTHER"] if "class" in ch else ch
        if len(significant) > limit:
            significant = significant.tail(limit)
        for d in significant.to_dict("records"):
            cls = d.get("class")
            known = {k: _known(d.get(k)) for k in ("event_name", "resource", "actor", "error_code", "class")}
            known["event_name"] = normalize_event_name(known["event_name"]) or None
            known["actor"] = blameless_actor(d.get("actor")) if known["actor"] else None
            what = " ".join(str(x) for x in (known["event_name"], known["resource"]) if x)
            failed = f" — FAILED ({known['error_code']})" if known["error_code"] else ""
            items.append({"time": _iso(d.get("timestamp")), "kind": "change",
                          "text": f"{cls or 'change'}: {what} by {blameless_actor(d.get('actor'))}{failed}",
                          "change": {"timestamp": _iso(d.get("timestamp")), **{k: v for k, v in known.items() if v}}})
    if onset is not None:
        items.append({"time": _iso(onset), "kind": "onset", "text": "the signal departs from its baseline (onset)"})
    if detection is not None:
        items.append({"time": _iso(detection[0]), "kind": "detection", "text": detection[1]})
    if recovery is not None:
        items.append({"time": recovery, "kind": "mitigation", "text": "failure rate back at the baseline level"})
    items = [i for i in items if i["time"]]
    order = {"change": 0, "onset": 1, "detection": 2, "mitigation": 3, "window": 4}
    items.sort(key=lambda i: (i["time"], order.get(i["kind"], 9)))
    return items


def _detection(health: Mapping[str, pd.DataFrame], window: Any) -> tuple[Any, str] | None:
    hist = health.get("alarm_history") if health else None
    if hist is None or len(hist) == 0 or "new_state" not in hist:
        return None
    alarms = hist[hist["new_state"].astype("string") == "ALARM"].sort_values("timestamp")
    if window is not None:
        alarms = alarms[(alarms["timestamp"] >= window.start - window.duration) & (alarms["timestamp"] < window.end)]
    if alarms.empty:
        return None
    first = alarms.iloc[0]
    return first["timestamp"], f"alarm {first.get('alarm_name')} goes to ALARM (detection)"


def build(investigation: Any, findings: Iterable[Any], *, impact: Mapping[str, Any] | None = None,
          latency_slo_ms: float | None = None) -> dict[str, Any]:
    """The facts of a postmortem from an investigation and its ranked findings.

    ``impact`` is the investigation's impact when the caller computed it already (the
    same numbers as ``findings.json``); otherwise :meth:`Investigation.impact
    <incidentkit.investigation.Investigation.impact>` with ``latency_slo_ms``.

    Returns a JSON-able dict: ``title``, ``summary``, ``severity``, ``impact`` (see
    :func:`impact`), ``timeline``, ``root_cause``, ``actions``, ``evidence``,
    ``data_quality`` (the trigger and contributing factors are read from the findings'
    ``related_changes`` by :mod:`incidentkit.render.postmortem_doc`).
    """
    inv = investigation
    items = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in findings]
    top = items[0] if items else None
    requests = baseline_requests = changes = None
    inputs_health: dict[str, pd.DataFrame] = {}
    try:  # the evidence the findings read, whatever else was looked at before
        ins = inv.inputs()
        requests, baseline_requests = ins.requests, ins.baseline_requests
        inputs_health = ins.health or {}
        changes = ins.changes
    except Exception as exc:  # impact is best effort; the postmortem still lists the findings
        inv.issues.append(f"postmortem: evidence could not be gathered ({type(exc).__name__}: {exc})")
    onset = (top or {}).get("onset")
    if impact is None:
        impact = _impact.impact(requests, baseline_requests, window=inv.window, baseline_window=inv.baseline,
                                latency_slo_ms=latency_slo_ms)
    imp = with_layout_names(impact)
    detection = _detection(inputs_health, inv.window)
    recovery = imp.get("recovered")
    tl = timeline(changes, items, window=inv.window, detection=detection, recovery=recovery, onset=onset)
    evidence = []
    for name in inv.bundle.names():
        e = inv.bundle.entry(name)
        attrs = e.get("attrs") or {}
        evidence.append({"frame": name, "file": f"evidence/{e['file']}", "kind": e.get("kind"), "rows": e.get("rows"),
                         "sha256": (e.get("sha256") or "")[:12], "source": attrs.get("source"),
                         "complete": bool(attrs.get("complete", True)) and not attrs.get("truncated", False)})
    dq = inv.bundle.summary()
    return {
        "title": top["title"] if top else f"incident of {inv.window.start:%Y-%m-%d %H:%M} UTC",
        "severity": top["severity"] if top else None,
        "summary": top["summary"] if top else "The evidence shows none of the known causes; see the impact and timeline.",
        "impact": imp,
        "timeline": tl,
        "detected": _iso(detection[0]) if detection else None,
        "recovered": recovery,
        "root_cause": {k: top.get(k) for k in ("id", "title", "summary", "evidence", "severity")} if top else None,
        "actions": actions(items),
        "evidence": evidence,
        "data_quality": {
            "complete": bool(dq["complete"].all() and not dq["truncated"].any()) if len(dq) else True,
            "incomplete": [str(x) for x in dq.loc[~dq["complete"] | dq["truncated"], "frame"]] if len(dq) else [],
            "issues": list(inv.issues),
        },
    }
