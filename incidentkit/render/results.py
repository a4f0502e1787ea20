"""The notebook protocol: a template publishes its results into its own output, the runner reads
them back.

A template's last cell calls :func:`publish_results`, which shows the postmortem draft and
attaches a machine-readable copy of the results to the notebook output (MIME type
:data:`MIME`). The runner reads that copy from the executed notebook with
:func:`read_results` and writes ``findings.json`` (:func:`findings_document`) and
``postmortem.md`` from it, so the files and the notebook never disagree.

Example
-------
>>> nb = {"cells": [{"cell_type": "code", "outputs": [{"data": {MIME: {"findings": [], "window": None}}}]}]}
>>> read_results(nb)["findings"]
[]
>>> read_results({"cells": []}) is None
True
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping, Sequence

from .._util.fmt import now_iso as _now_iso
from .._version import __version__
from ..errors import summarize
from ..masking import mask_obj, mask_text
from . import postmortem as _pm
from .cards import ISSUE_LIMIT, _as_dicts

__all__ = ["MIME", "ISSUE_LIMIT", "publish_results", "read_results", "findings_document", "data_quality", "postmortem_data", "postmortem_markdown"]

#: MIME type of the results a template publishes (read back by the runner).
MIME = "application/vnd.incidentkit.result+json"



# -- data quality -----------------------------------------------------------------------------


def data_quality(bundle: Any = None, *, detector_errors: Mapping[str, str] | None = None,
                 issues: Sequence[str] = ()) -> dict[str, Any]:
    """The data-quality block of ``findings.json`` from an evidence bundle's summary.

    Returns totals (frames, rows, API calls, retries, parse errors, seconds fetching), the
    frames that are incomplete or truncated, every issue line, the detectors that failed,
    and ``inconclusive``: why the primary evidence could not be read
    (:meth:`~incidentkit.evidence.EvidenceBundle.unread_primary`), or None.
    """
    frames: list[dict[str, Any]] = []
    if bundle is not None:
        summary = bundle.summary()
        frames = json.loads(summary.to_json(orient="records")) if len(summary) else []
    all_issues = [f"{r['frame']}: {r['issues']}" for r in frames if r.get("issues")]
    all_issues.extend(issues)
    # one line each: an issue quoting an AWS error body (an HTML page) is summarised, never pasted
    all_issues = [summarize(i, ISSUE_LIMIT) for i in all_issues]
    return mask_obj(
        {
            "complete": all(bool(r.get("complete", True)) and not r.get("truncated") for r in frames),
            "frames": len(frames),
            "rows": int(sum(int(r.get("rows") or 0) for r in frames)),
            "api_calls": int(sum(int(r.get("api_calls") or 0) for r in frames)),
            "retries": int(sum(int(r.get("retries") or 0) for r in frames)),
            "parse_errors": int(sum(int(r.get("parse_errors") or 0) for r in frames)),
            "fetch_seconds": round(float(sum(float(r.get("elapsed_s") or 0) for r in frames)), 3),
            "incomplete_frames": [r["frame"] for r in frames if not r.get("complete", True)],
            "truncated_frames": [r["frame"] for r in frames if r.get("truncated")],
            "issues": all_issues,
            "detector_errors": dict(detector_errors or {}),
            "inconclusive": bundle.unread_primary() if bundle is not None else None,
            "by_frame": frames,
        }
    )


# -- publishing from a notebook and reading it back -------------------------------------------


def publish_results(investigation: Any = None, findings: Iterable[Any] | None = None, *, postmortem: Mapping[str, Any] | None = None,
            window: Any = None, baseline: Any = None, parameters: Mapping[str, Any] | None = None,
            show: bool = True, level: int = 2, impact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Attach the run's results to the notebook output (and show the postmortem draft).

    Call it in a template's last cell. The runner reads the attached copy
    (MIME :data:`MIME`) back to write ``findings.json`` and ``postmortem.md``.

    Parameters
    ----------
    investigation:
        The :class:`~incidentkit.investigation.Investigation` (window, parameters, data
        quality and the postmortem's impact numbers come from it).
    findings:
        The ranked findings (default: ``investigation.findings()``).
    postmortem:
        Postmortem data (default: :func:`postmortem_data` of the investigation).
    window, baseline, parameters:
        For templates without an investigation.
    show:
        Display the postmortem draft as Markdown (with the results attached).
    level:
        Heading level of the postmortem's title when shown (2: a section of a report;
        1: the postmortem template, where it is the document).
    impact:
        What users saw (:meth:`Investigation.impact <incidentkit.investigation.Investigation.impact>`,
        e.g. with the template's ``latency_slo_ms``); default: the investigation's impact.
        Written as ``impact`` in ``findings.json`` and used by the postmortem, so both show
        the same numbers.

    Returns
    -------
    dict
        The published results.
    """
    if findings is None and investigation is not None:
        findings = investigation.findings()
    items = _as_dicts(findings or [])
    errors = dict(getattr(findings, "errors", {}) or {})
    inv = investigation
    if inv is not None:
        window = window or inv.window
        baseline = baseline if baseline is not None else inv.baseline
        parameters = parameters if parameters is not None else inv.parameters
    result: dict[str, Any] = {
        "window": window.to_dict() if hasattr(window, "to_dict") else window,
        "baseline": baseline.to_dict() if hasattr(baseline, "to_dict") else baseline,
        "parameters": dict(parameters or {}),
        "findings": items,
        "detector_errors": errors,
        "issues": list(getattr(inv, "issues", []) or []),
        "sample": getattr(inv, "sample_name", None),
        "source": getattr(inv, "source", None),
    }
    if impact is None and inv is not None:
        impact = _investigation_impact(inv)
    result["impact"] = _impact_keys(impact)
    if postmortem is None and inv is not None:
        postmortem = postmortem_data(inv, findings or [], impact=result["impact"])
    result["postmortem"] = dict(postmortem or {})
    # The notebook stores outputs with sorted keys; the detector's order (key numbers first) is kept here.
    result[_EVIDENCE_ORDER] = [list((f.get("evidence") or {}).keys()) for f in items]
    result["issues"] = list(getattr(inv, "issues", []) or [])  # with what computing the impact had to say
    result = mask_obj(json.loads(json.dumps(result, default=str)))
    if show:
        from IPython.display import display

        md = postmortem_markdown(result, level=level, in_report=True)
        display({"text/markdown": md, "text/plain": md, MIME: result}, raw=True)
    return result


def _investigation_impact(inv: Any) -> dict[str, Any] | None:
    """The investigation's impact, from its own evidence (the same the findings read)."""
    try:
        return inv.impact()
    except Exception as exc:  # best effort, and said: the findings are still published
        inv.issues.append(f"impact could not be computed ({type(exc).__name__}: {exc})")
        return None


def _impact_keys(impact: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The impact as written to ``findings.json``: the analysis' keys only (not the layout's older names)."""
    if impact is None:
        return None
    return {k: v for k, v in dict(impact).items() if k not in _LAYOUT_NAMES}


#: Names the postmortem layout adds to an impact (:func:`incidentkit.render.postmortem.with_layout_names`).
_LAYOUT_NAMES = ("failed", "error_rate", "error_rate_5xx", "clients_affected", "baseline_requests", "baseline_error_rate",
                 "baseline_p99_ms", "duration_min", "duration_basis")


def read_results(nb: Mapping[str, Any]) -> dict[str, Any] | None:
    """The results a notebook published with :func:`publish_results` (the last one), or None."""
    found = None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []) or []:
            data = out.get("data") or {}
            if MIME in data:
                value = data[MIME]
                found = json.loads(value) if isinstance(value, str) else dict(value)
    return _with_evidence_order(found) if found is not None else None


#: Key of the published results holding each finding's evidence names in the detector's order.
_EVIDENCE_ORDER = "evidence_order"


def _with_evidence_order(result: dict[str, Any]) -> dict[str, Any]:
    """Each finding's evidence back in the detector's order (the notebook file sorts JSON keys)."""
    orders = result.pop(_EVIDENCE_ORDER, None)
    if not isinstance(orders, list):
        return result
    for f, order in zip(result.get("findings") or [], orders):
        ev = f.get("evidence") if isinstance(f, dict) else None
        if isinstance(ev, dict) and isinstance(order, list):
            ranked = [k for k in order if k in ev]
            f["evidence"] = {**{k: ev[k] for k in ranked}, **{k: v for k, v in ev.items() if k not in ranked}}
    return result


def findings_document(*, template: str, published: Mapping[str, Any] | None, parameters: Mapping[str, Any],
                      bundle: Any = None, source: str | None = None) -> dict[str, Any]:
    """The ``findings.json`` content (design.md's shape, plus ``data_quality``).

    ``source`` (``aws``, ``evidence:<dir>`` or ``sample:<name>``) is what the runner knows of
    the run; default: what the notebook published, else ``sample:<name>`` or ``aws``.
    """
    pub = dict(published or {})
    params = {k: v for k, v in dict(parameters).items() if v is not None}
    window = pub.get("window")
    if not window and params.get("start") and params.get("end"):
        window = {"start": params["start"], "end": params["end"]}
    baseline = pub.get("baseline")
    if not baseline and params.get("baseline_start") and params.get("baseline_end"):
        baseline = {"start": params["baseline_start"], "end": params["baseline_end"]}
    issues = list(pub.get("issues") or [])
    if published is None:
        issues.append("the template published no results (no report.publish call ran): findings are empty")
    sample = pub.get("sample")
    doc = {
        "template": template,
        "source": source or pub.get("source") or (f"sample:{sample}" if sample else "aws"),
        "window": window,
        "baseline": baseline,
        "parameters": params,
        "findings": list(pub.get("findings") or []),
        "data_quality": data_quality(bundle, detector_errors=pub.get("detector_errors"), issues=issues),
        "generated": _now_iso(),
    }
    if pub.get("sample"):
        doc["sample"] = pub["sample"]
    doc["impact"] = pub.get("impact")
    doc["incidentkit_version"] = __version__
    return mask_obj(doc)


# -- postmortem -------------------------------------------------------------------------------


def postmortem_data(investigation: Any, findings: Iterable[Any], *, impact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Facts for a blameless postmortem: impact, timeline, causes, actions, evidence.

    Computed from what the investigation fetched; each part says when the evidence for it
    is missing instead of guessing. ``impact``: the numbers already computed for
    ``findings.json`` (default: the investigation's).
    """
    return _pm.build(investigation, findings, impact=impact)


def postmortem_markdown(result: Mapping[str, Any], *, links: bool = True, level: int = 1, in_report: bool = False) -> str:
    """The postmortem as Markdown from published results (see :func:`publish_results`).

    ``level`` is the level of its top heading (2 inside a notebook section); ``in_report``:
    shown in a report that has the findings' cards (see :func:`incidentkit.render.postmortem_doc.markdown`).
    """
    text = _pm.markdown(result, links=links, in_report=in_report)
    if level > 1:
        text = re.sub(r"(?m)^(#+) ", lambda m: "#" * (len(m.group(1)) + level - 1) + " ", text)
    return mask_text(text)
