"""Reports: findings as HTML, the postmortem, ``findings.json`` and masked run files.

A template's last cell calls :func:`publish`, which shows the postmortem draft and
attaches a machine-readable copy of the results to the notebook output (MIME type
:data:`MIME`). The runner reads that copy from the executed notebook to write
``findings.json`` and ``postmortem.md``, so the files and the notebook never disagree.

Everything written here goes through :mod:`incidentkit.masking` first.

Example
-------
>>> from incidentkit.findings import Finding
>>> html = findings_html([Finding(id="cold-start-tail", title="Cold starts make the P99",
...                               severity="medium", summary="82% of the tail were cold starts.")])
>>> "cold-start-tail" in html and "MEDIUM" in html
True
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import numbers
import os
import re
from typing import Any, Iterable, Mapping, Sequence

from .._util.blameless import blameless_actor
from .._util.fmt import value as _fmt
from .._version import __version__
from ..analyses import impact as _impact
from ..analyses import latency as _latency
from ..analyses import onset as _onset
from ..errors import summarize
from ..evidence import atomic_write_text
from ..fetch.changes import normalize_event_name
from ..masking import mask_obj, mask_text
from . import postmortem as _pm
from .markup import sanitize_notebook
from .theme import SEVERITY_COLORS

__all__ = [
    "MIME",
    "signatures_view",
    "SEVERITY_COLORS",
    "findings_html",
    "findings_text",
    "data_quality",
    "data_quality_html",
    "publish",
    "extract",
    "findings_document",
    "postmortem_data",
    "postmortem_markdown",
    "mask_notebook",
    "write_notebook",
    "write_html",
    "write_json",
    "write_postmortem",
    "write_text",
    "to_html",
    "note",
    "moved_metrics",
    "changes_table",
    "traffic_note",
    "latency_note",
    "data_quality_view",
    "metrics_named",
    "settings_table",
    "table",
    "Table",
]

#: MIME type of the results a template publishes (read back by the runner).
MIME = "application/vnd.incidentkit.result+json"


_FILE_MODE = 0o600


# -- small helpers ----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return _html.escape(mask_text(str(value)), quote=True)


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _as_dicts(findings: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for f in findings or []:
        out.append(f.to_dict() if hasattr(f, "to_dict") else dict(f))
    return out


def _badge(severity: str) -> str:
    bg, fg = SEVERITY_COLORS.get(severity, SEVERITY_COLORS["info"])
    return (
        f'<span style="background-color:{bg};color:{fg};border-radius:4px;padding:2px 8px;font-weight:700;'
        f'font-size:12px;letter-spacing:.04em;white-space:nowrap">{_e(severity.upper())}</span>'
    )


# -- findings as HTML / text ------------------------------------------------------------------


def findings_html(findings: Iterable[Any], *, title: str | None = None, errors: Mapping[str, str] | None = None,
                  empty: str = "No finding: the evidence shows none of the known causes.") -> str:
    """Findings as HTML cards, most likely cause first (severity colour, evidence, remediation).

    Parameters
    ----------
    findings:
        ``Finding`` objects or their dicts, ranked.
    title:
        An optional heading above the cards.
    errors:
        Detectors that failed (id -> reason), shown under the cards.
    empty:
        What to say when there is no finding.
    """
    items = _as_dicts(findings)
    errors = dict(errors if errors is not None else getattr(findings, "errors", {}) or {})
    parts = ['<div class="ik-findings" style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px">']
    if title:
        parts.append(f'<h3 style="margin:4px 0 8px">{_e(title)}</h3>')
    if not items:
        parts.append(
            f'<div style="border:1px solid #cbd5e1;border-left:6px solid #16a34a;border-radius:6px;padding:10px 14px;'
            f'margin:6px 0">{_e(empty)}</div>'
        )
    for rank, f in enumerate(items, 1):
        parts.append(_finding_card(rank, f))
    if errors:
        rows = "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in errors.items())
        parts.append(
            '<div style="border:1px solid #f59e0b;border-radius:6px;padding:8px 12px;margin:8px 0;background-color:#fffbeb;color:#78350f">'
            f"<b>Checks that could not run</b> (their causes are not ruled out):<ul style='margin:4px 0'>{rows}</ul></div>"
        )
    parts.append("</div>")
    return "".join(parts)


#: Evidence rows a card shows open; the rest fold into a ``<details>`` block (findings.json keeps all).
_EVIDENCE_SHOWN = 12
#: Up to this many rows a card shows them all (folding away one or two rows helps nobody).
_EVIDENCE_OPEN_MAX = 14

_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _inline_code(escaped: str) -> str:
    """Markdown code spans (`` `name` ``) in already escaped HTML text as ``<code>``.

    Call it only on the output of :func:`_e`: the text is masked and escaped first, so a
    span's content can only be text, never markup.
    """
    return _CODE_SPAN.sub(r"<code>\1</code>", escaped)


def _evidence_rows(items: Sequence[tuple[str, Any]], name_width: int) -> str:
    return "".join(
        f'<tr><td style="padding:2px 12px 2px 0;color:#475569;white-space:nowrap;text-align:left;min-width:{name_width}ch">{_e(k)}</td>'
        f'<td style="padding:2px 0;font-variant-numeric:tabular-nums;font-weight:600;white-space:nowrap">{_e(_fmt(v, k))}</td></tr>'
        for k, v in items
    )


def _evidence_html(ev: Mapping[str, Any]) -> str:
    """The evidence table: the detector's first rows (its key numbers) open, the rest folded."""
    items = [(str(k), v) for k, v in ev.items()]
    if not items:
        return ""
    shown = items if len(items) <= _EVIDENCE_OPEN_MAX else items[:_EVIDENCE_SHOWN]
    rest = items[len(shown):]
    # both tables get the same name-column width so the folded rows line up with the open ones
    width = round(0.85 * max(len(k) for k, _ in items)) if rest else 0
    table = '<table style="border-collapse:collapse;margin-top:4px">{}</table>'
    html = table.format(_evidence_rows(shown, width))
    if rest:
        html += (
            '<details style="margin-top:2px"><summary style="cursor:pointer;color:#475569;font-size:13px">'
            f"all {len(items)} evidence values ({len(rest)} more)</summary>"
            + table.format(_evidence_rows(rest, width)) + "</details>"
        )
    return html


def _finding_card(rank: int, f: Mapping[str, Any]) -> str:
    severity = str(f.get("severity", "info"))
    bg, _fg = SEVERITY_COLORS.get(severity, SEVERITY_COLORS["info"])
    conf = f.get("confidence")
    conf_txt = f" · confidence {float(conf):.0%}" if isinstance(conf, (int, float)) else ""
    onset = f" · onset {_e(f['onset'])}" if f.get("onset") else ""
    evidence = _evidence_html(f.get("evidence") or {})
    rem = "".join(f"<li>{_inline_code(_e(r))}</li>" for r in f.get("remediation") or [])
    ch_rows = _related_changes_html(f.get("related_changes") or [])
    body = [
        f'<div id="finding-{_e(f.get("id", ""))}" style="border:1px solid #cbd5e1;border-left:8px solid {bg};border-radius:6px;'
        'padding:10px 14px;margin:8px 0;background-color:rgba(148,163,184,.06)">',
        f'<div style="display:flex;gap:10px;align-items:center;flex-wrap:wrap"><span style="font-weight:700;color:#64748b">#{rank}</span>'
        f'{_badge(severity)}<span style="font-size:16px;font-weight:700">{_inline_code(_e(f.get("title", "")))}</span></div>',
        f'<div style="color:#64748b;font-size:12px;margin:2px 0 6px"><code>{_e(f.get("id", ""))}</code>{conf_txt}{onset}</div>',
        f'<div style="margin:4px 0 8px;line-height:1.45">{_inline_code(_e(f.get("summary", "")))}</div>',
    ]
    cols = []
    if evidence:
        cols.append(f'<div style="flex:1 1 320px"><b>Evidence</b>{evidence}</div>')
    if rem:
        cols.append(f'<div style="flex:1 1 380px"><b>Remediation</b><ol style="margin:4px 0;padding-left:20px">{rem}</ol></div>')
    if cols:
        body.append('<div style="display:flex;gap:18px;flex-wrap:wrap">' + "".join(cols) + "</div>")
    if ch_rows:
        body.append(f'<div style="margin-top:6px"><b>Related changes</b><ul style="margin:4px 0">{ch_rows}</ul></div>')
    body.append("</div>")
    return "".join(body)


#: Related changes a card lists (the rest are counted; findings.json keeps all).
_CHANGES_SHOWN = 8


def _related_changes_html(changes: Sequence[Mapping[str, Any]]) -> str:
    """``<li>`` per related change: time, API name without CloudTrail's version suffix, resource, who (blameless)."""
    rows = []
    for c in changes[:_CHANGES_SHOWN]:
        name = normalize_event_name(c.get("event_name")) or "change"
        actor = f' by {_e(blameless_actor(c["actor"]))}' if c.get("actor") else ""
        failed = f' <span style="color:#b91c1c">(failed: {_e(c["error_code"])})</span>' if c.get("error_code") else ""
        rows.append(f"<li><code>{_e(c.get('timestamp', ''))}</code> <b>{_e(name)}</b> {_e(c.get('resource') or '')}"
                    f"{actor}{failed}</li>")
    if len(changes) > _CHANGES_SHOWN:
        rows.append(f"<li>… and {len(changes) - _CHANGES_SHOWN} more (findings.json lists them all)</li>")
    return "".join(rows)


def findings_text(findings: Iterable[Any]) -> str:
    """Findings as plain text for a terminal (one block per finding)."""
    items = _as_dicts(findings)
    if not items:
        return "No finding: the evidence shows none of the known causes."
    lines = []
    for rank, f in enumerate(items, 1):
        lines.append(f"#{rank} [{str(f.get('severity', '')).upper()}] {f.get('title', '')}  ({f.get('id', '')})")
        if f.get("summary"):
            lines.append(f"   {f['summary']}")
        for k, v in (f.get("evidence") or {}).items():
            lines.append(f"   - {k}: {_fmt(v, k)}")
        for i, r in enumerate(f.get("remediation") or [], 1):
            lines.append(f"   {i}. {r}")
    return mask_text("\n".join(lines))


# -- data quality -----------------------------------------------------------------------------


#: Longest data-quality issue line kept (errors.summarize).
ISSUE_LIMIT = 300


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


def data_quality_html(dq: Mapping[str, Any]) -> str:
    """The data-quality appendix as HTML: verdict line, totals and one row per frame."""
    ok = dq.get("complete", True) and not dq.get("detector_errors")
    color = "#16a34a" if ok else "#b91c1c" if dq.get("inconclusive") else "#b45309"
    verdict = (
        "Complete: every fetch returned everything that exists."
        if ok
        else "Inconclusive: the logs could not be read, so the absence of a finding means nothing."
        if dq.get("inconclusive")
        else "Incomplete: some evidence is missing or cut — read the issues below before trusting a negative."
    )
    head = (
        f'<div style="border-left:6px solid {color};padding:6px 12px;margin:6px 0;font-family:system-ui,sans-serif">'
        f"<b>{_e(verdict)}</b><br>{_fmt(dq.get('frames', 0))} frames · {_fmt(dq.get('rows', 0))} rows · "
        f"{_fmt(dq.get('api_calls', 0))} API calls · {_fmt(dq.get('retries', 0))} retries · "
        f"{_fmt(dq.get('parse_errors', 0))} unparsed lines · {_fmt(dq.get('fetch_seconds', 0))} s fetching</div>"
    )
    rows = []
    for r in dq.get("by_frame", []):
        flag = "" if r.get("complete", True) and not r.get("truncated") else ' style="background-color:#fef3c7;color:#78350f"'
        rows.append(
            f"<tr{flag}><td style='text-align:left'><code>{_e(r.get('frame'))}</code></td>"
            f"<td style='text-align:left'>{_e(r.get('source') or r.get('kind') or '')}</td>"
            f"<td style='text-align:right'>{_fmt(r.get('rows'))}</td><td style='text-align:right'>{_fmt(r.get('api_calls'))}</td>"
            f"<td style='text-align:right'>{_fmt(r.get('retries'))}</td><td>{'yes' if r.get('complete', True) else 'NO'}</td>"
            f"<td>{'YES' if r.get('truncated') else 'no'}</td><td style='text-align:right'>{_fmt(r.get('parse_errors'))}</td>"
            f"<td style='text-align:left'>{_e(summarize(r.get('issues') or '', ISSUE_LIMIT))}</td></tr>"
        )
    table = (
        '<table style="border-collapse:collapse;font-size:12px"><thead><tr><th>frame</th><th>source</th><th>rows</th>'
        "<th>API calls</th><th>retries</th><th>complete</th><th>truncated</th><th>unparsed</th><th>issues</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else ""
    )
    extra = ""
    if dq.get("detector_errors"):
        extra = "<p><b>Checks that failed:</b> " + "; ".join(f"{_e(k)}: {_e(v)}" for k, v in dq["detector_errors"].items()) + "</p>"
    return head + table + extra


# -- publishing from a notebook and reading it back -------------------------------------------


def publish(investigation: Any = None, findings: Iterable[Any] | None = None, *, postmortem: Mapping[str, Any] | None = None,
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


def extract(nb: Mapping[str, Any]) -> dict[str, Any] | None:
    """The results a notebook published with :func:`publish` (the last one), or None."""
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
    """The postmortem as Markdown from published results (see :func:`publish`).

    ``level`` is the level of its top heading (2 inside a notebook section); ``in_report``:
    shown in a report that has the findings' cards (see :func:`incidentkit.render.postmortem_doc.markdown`).
    """
    text = _pm.markdown(result, links=links, in_report=in_report)
    if level > 1:
        text = re.sub(r"(?m)^(#+) ", lambda m: "#" * (len(m.group(1)) + level - 1) + " ", text)
    return mask_text(text)


# -- writing run files ------------------------------------------------------------------------


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write masked text to ``path`` (mode 0600)."""
    atomic_write_text(path, mask_text(text), mode=_FILE_MODE)


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write masked JSON to ``path`` (mode 0600)."""
    atomic_write_text(path, json.dumps(mask_obj(data), indent=2, ensure_ascii=False, default=str) + "\n", mode=_FILE_MODE)


_BINARY_MIME = re.compile(r"^(image/(?!svg)|application/(pdf|octet-stream))")


def mask_notebook(nb: Mapping[str, Any]) -> Any:
    """A copy of a notebook with every source and text output masked (images left alone)."""
    import nbformat

    data = json.loads(json.dumps(nb))
    for cell in data.get("cells", []):
        cell["source"] = mask_obj(cell.get("source", ""))
        for out in cell.get("outputs", []) or []:
            if "text" in out:
                out["text"] = mask_obj(out["text"])
            if "evalue" in out:
                out["evalue"] = mask_text(str(out["evalue"]))
            if "traceback" in out:
                out["traceback"] = mask_obj(out["traceback"])
            if "data" in out:
                out["data"] = {k: (v if _BINARY_MIME.match(k) else mask_obj(v)) for k, v in out["data"].items()}
    data["metadata"] = mask_obj(data.get("metadata", {}))
    return nbformat.from_dict(data)


def write_notebook(nb: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a masked copy of ``nb`` to ``path`` (mode 0600)."""
    import nbformat

    atomic_write_text(path, nbformat.writes(mask_notebook(nb)), mode=_FILE_MODE)


_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")


def _mask_html(text: str) -> str:
    """Mask HTML text, leaving embedded base64 images intact."""
    parts = []
    last = 0
    for m in _DATA_URI.finditer(text):
        parts.append(mask_text(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(mask_text(text[last:]))
    return "".join(parts)


#: The report page's own CSS: the kit's views read left-aligned (JupyterLab right-aligns rendered
#: tables), wide tables scroll inside their output instead of being clipped, and the postmortem's
#: Markdown tables scroll too. Outputs cannot carry ``<style>`` into the export (the sanitiser drops
#: it), so this is the only stylesheet besides nbconvert's.
REPORT_CSS = """
.ik-findings-view td,.ik-findings-view th,.ik-finding-view td,.ik-finding-view th,.ik-investigation td,
.ik-investigation th,.ik-timeline td,.ik-timeline th,.ik-table td.ik-text,.ik-table th.ik-text{text-align:left}
.jp-OutputArea-output{overflow-x:auto;max-width:100%}
.ik-table-wrap{overflow-x:auto;max-width:100%}
.ik-table td,.ik-table th{white-space:nowrap;font-variant-numeric:tabular-nums}
.ik-markdown table{display:block;overflow-x:auto;max-width:100%}
.ik-markdown td{vertical-align:top}
.ik-markdown td code{white-space:nowrap}
.ik-markdown blockquote{border-left:4px solid #f59e0b;background:#fffbeb;color:#78350f;padding:4px 12px;margin:6px 0}
"""

#: The report loads and runs no script at all (no MathJax, require.js or mermaid from a CDN: the
#: report needs none), and says so to the browser: a third wall after escaping and sanitising.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                           "base-uri 'none'; form-action 'none'")

_REPORT_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js -%}\n"
    f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
    "{%- endblock html_head_js -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_css -%}<style type=\"text/css\">{{ resources.incidentkit_css }}</style>{%- endblock html_head_css -%}\n"
)


def to_html(nb: Mapping[str, Any], *, hide_code: bool = False) -> str:
    """Render a notebook to standalone HTML (masked, sanitised, script-free), optionally without code cells.

    The notebook is masked first, then every HTML/Markdown output is sanitised
    (:func:`incidentkit.render.markup.sanitize_notebook`); the page is nbconvert's ``lab`` template
    without its scripts, with :data:`REPORT_CSS` and a Content-Security-Policy that allows no
    script.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"incidentkit-report.html.j2": _REPORT_TEMPLATE})],
                            template_file="incidentkit-report.html.j2")
    # the reader sees the investigation's summary instead of the parameter cells, and the
    # outputs of setup cells without their code; report.ipynb keeps everything
    tags = TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", "remove-cell"},
        remove_input_tags={"hide-input"},
        enabled=True,
    )
    exporter.register_preprocessor(tags, enabled=True)
    if hide_code:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    clean = sanitize_notebook(mask_notebook(nb))
    body, _resources = exporter.from_notebook_node(clean, resources={"incidentkit_css": REPORT_CSS})
    return _mask_html(body)


def write_html(nb: Mapping[str, Any], path: str | os.PathLike[str], *, hide_code: bool = False, failed: bool = False) -> None:
    """Write ``report.html`` (mode 0600). ``failed`` adds nothing: papermill's banner shows the error."""
    atomic_write_text(path, to_html(nb, hide_code=hide_code), mode=_FILE_MODE)


def write_postmortem(result: Mapping[str, Any], published: Mapping[str, Any] | None, path: str | os.PathLike[str]) -> None:
    """Write ``postmortem.md`` from the published results (or, lacking them, from ``findings.json``)."""
    data = dict(result)
    if published:
        data["postmortem"] = published.get("postmortem") or {}
    write_text(path, postmortem_markdown(data))


# -- helpers the templates use to tell the story ----------------------------------------------


def note(text: str) -> Any:
    """A Markdown paragraph for a notebook (masked)."""
    from IPython.display import Markdown

    return Markdown(mask_text(text))


def moved_metrics(metrics: Any, *, window: Any, baseline: Any = None, limit: int = 6) -> tuple[Any, Any]:
    """The metric series that departed from their baseline in the incident, earliest first.

    Returns ``(metrics_subset, onsets)``: the rows of the series that moved (at most
    ``limit``; when none moved, the first ``limit`` series so the plot still shows the
    context) and :func:`incidentkit.analyses.onset.onset`'s table for them (with the
    series' label).
    """
    import pandas as pd

    if metrics is None or len(metrics) == 0:
        return metrics, pd.DataFrame()
    ref = baseline if baseline is not None else None
    table = _onset.onset(metrics, series="query_id", baseline=ref, window=window)
    moved = table[table["onset"].notna()].sort_values("onset") if len(table) else table
    ids = list(moved["series"].head(limit)) if len(moved) else []
    if not ids:  # nothing departed: show the signals an on-call reads first
        order = ("5XX", "5xx", "Error", "Throttl", "Unhealthy", "Latency", "Duration", "ResponseTime", "Count", "Invocations")
        names = metrics.drop_duplicates("query_id")[["query_id", "metric_name", "stat"]]
        def rank(row: Any) -> tuple[int, str]:
            for i, key in enumerate(order):
                if key in str(row.metric_name):
                    return (i, str(row.query_id))
            return (len(order), str(row.query_id))
        ids = [r.query_id for r in sorted(names.itertuples(index=False), key=rank)][:limit]
    labels = metrics.drop_duplicates("query_id").set_index("query_id")["label"]
    if len(moved):
        moved = moved.assign(label=moved["series"].map(labels)).head(limit)
        cols = ["label", "onset", "direction", "baseline_level", "incident_level", "peak", "peak_time"]
        moved = moved[[c for c in cols if c in moved.columns]].reset_index(drop=True)
        levels = [c for c in ("baseline_level", "incident_level", "peak") if c in moved.columns]
        moved[levels] = moved[levels].astype("float64").round(2)  # a reading table, not six decimals
    subset = metrics[metrics["query_id"].isin(ids)]
    return subset, moved


def signatures_view(signatures: Any, *, limit: int = 12) -> Any:
    """"What is new in the logs" for reading: each error-line template (new first, then grown, then
    the most frequent), what it is against the baseline, its counts and a masked example line.

    Every cell is text in a :class:`Table` (escaped); a note when the window has no error line.

    Example
    -------
    >>> import pandas as pd
    >>> sig = pd.DataFrame({"template": ["<b>boom</b> <NUM>"], "count": [3], "baseline_count": [0], "new": [True],
    ...                     "grown": [False], "growth": [None], "share_of_errors": [1.0], "example": ["<b>boom</b> 7"]})
    >>> html = signatures_view(sig)._repr_html_()
    >>> "&lt;b&gt;boom&lt;/b&gt;" in html and "new" in html and "<b>boom" not in html
    True
    """
    import pandas as pd

    if signatures is None or len(signatures) == 0:
        return note("No error lines in the incident window: nothing new in the logs.")
    df = signatures.head(limit)

    def status(row: Any) -> str:
        if row.get("new") is True or (not pd.isna(row.get("new")) and bool(row.get("new"))):
            return "new"
        if not pd.isna(row.get("grown")) and bool(row.get("grown")):
            growth = row.get("growth")
            return f"grown {float(growth):.1f}x" if growth is not None and not pd.isna(growth) else "grown"
        return "as before" if not pd.isna(row.get("new")) else "no baseline"

    out = pd.DataFrame({
        "signature": df["template"].astype("string"),
        "against the baseline": [status(r) for _, r in df.iterrows()],
        "count": df["count"],
        "baseline count": df["baseline_count"] if "baseline_count" in df.columns else pd.NA,
        "share_of_errors": df["share_of_errors"] if "share_of_errors" in df.columns else pd.NA,
        "first seen": df["first_seen"] if "first_seen" in df.columns else pd.NaT,
        "example": df["example"].astype("string") if "example" in df.columns else pd.NA,
    })
    return table(out.reset_index(drop=True), limit=limit)


def changes_table(changes: Any, *, limit: int = 30) -> Any:
    """The change timeline for reading: time, class, what, resource, who (blameless), error."""
    import pandas as pd

    if changes is None or len(changes) == 0:
        return pd.DataFrame(columns=["time (UTC)", "class", "change", "resource", "by", "error"])
    df = changes.sort_values("timestamp").tail(limit)
    out = pd.DataFrame(
        {
            "time (UTC)": df["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "class": df["class"],
            "change": df["event_name"].map(normalize_event_name),
            "resource": df["resource"],
            "by": df["actor"].map(blameless_actor),
            "error": df["error_code"].fillna(""),
        }
    )
    return out.reset_index(drop=True)


def _rate(x: float | None) -> str:
    return "—" if x is None or x != x else f"{100 * x:.1f} %"


def _ms(x: float | None) -> str:
    if x is None or x != x:
        return "—"
    return f"{x / 1000:.2f} s" if x >= 1000 else f"{x:.0f} ms"


def traffic_note(impact: Any, baseline_requests: Any = None, *, window: Any = None) -> Any:
    """One paragraph: what was counted, failed and slow requests and clients, against the baseline.

    ``impact`` is the investigation's impact (``inv.impact()``: the numbers ``findings.json``
    and the postmortem show), or a requests frame, then counted the same way
    (:func:`incidentkit.analyses.impact.impact` with ``baseline_requests`` and ``window``).
    """
    imp = dict(impact) if isinstance(impact, Mapping) else _impact.impact(impact, baseline_requests, window=window)
    if not imp.get("requests"):
        return note("No request-level logs in the evidence: traffic and error rates come from metrics only.")
    invocations = imp.get("unit") == "invocations"
    why = "timed out or logged an error" if invocations else f"{imp['failed_5xx']:,} 5xx or timeouts, {imp['failed_4xx']:,} 4xx"
    text = f"**{imp['counted']}** in the incident window; **{imp['failed_requests']:,} failed** ({_rate(imp['failed_share'])}: {why})"
    base = imp.get("baseline") or {}
    if base.get("failed_share") is not None:
        text += f", against {_rate(base['failed_share'])} in the baseline ({base['requests']:,} {imp.get('unit', 'requests')})"
    if imp.get("slow_requests") is not None:
        text += f". **{imp['slow_requests']:,} slow** ({_rate(imp.get('slow_share'))}; {imp['slow_rule_text']})"
    if imp.get("clients") is not None:
        text += f". {imp['failed_clients']:,} of {imp['clients']:,} clients (distinct IPs) saw a failure"
        if imp.get("slow_clients") is not None:
            text += f", {imp['slow_clients']:,} a slow response"
    other = {k: v for k, v in (imp.get("other_tiers") or {}).items() if v}
    if other:
        text += ". Rows of other tiers, not counted: " + ", ".join(f"{v:,} {_TIER_ROWS.get(k, k)}" for k, v in other.items())
    return note(text + ".")


#: How the rows of a tier are called when a note says they were not counted.
_TIER_ROWS = {"invocation": "Lambda invocations", "app": "application request lines", "entry": "access-log requests"}


def latency_note(requests: Any, baseline_requests: Any = None) -> Any:
    """One paragraph: P50/P90/P99 of the requests counted once (the impact's tier), against
    the baseline at the same tier, and the cold starts left out — of the Lambda invocations
    behind the requests when the entry point's rows do not say which were cold."""
    if requests is None or len(requests) == 0:
        return note("No request-level logs in the evidence: latency comes from metrics only.")
    tier = _impact.counting_tier(requests)
    unit = "Lambda invocations" if tier == "invocation" else "requests"
    at_tier = _impact.counted(requests, tier=tier)
    rows = _split_rows(_latency.percentiles_excluding(at_tier))
    allr = rows.get("all")
    if allr is None:
        return note("The requests carry no latency.")
    n = int(allr.get("count", 0))
    text = (f"P50 **{_ms(allr.get('p50'))}**, P90 **{_ms(allr.get('p90'))}**, P99 **{_ms(allr.get('p99'))}** over {n:,} {unit}"
            + (f" (of {len(at_tier):,}) with a latency" if n < len(at_tier) else ""))
    base = _impact.counted(baseline_requests, tier=tier) if baseline_requests is not None else None
    if base is not None and len(base):
        ball = _split_rows(_latency.percentiles_excluding(base)).get("all")
        if ball is not None:
            text += f" (baseline P99 {_ms(ball.get('p99'))})"
    of = ""
    if not int((rows.get("only cold_start") or {}).get("count", 0) or 0) and tier == "entry":
        rows, of = _split_rows(_latency.percentiles_excluding(_impact.counted(requests, tier="invocation"))), " of the Lambda invocations behind them"
    warm, cold = rows.get("excluding cold_start"), rows.get("only cold_start")
    if warm is not None and cold is not None and int(cold.get("count", 0) or 0) > 0:
        text += (
            f". Without cold starts the P99{of} is **{_ms(warm.get('p99'))}**; the {int(cold.get('count', 0)):,} cold starts "
            f"have a P50 of {_ms(cold.get('p50'))}"
        )
    return note(text + ".")


def _split_rows(split: Any) -> dict[str, Any]:
    """``percentiles_excluding``'s rows by subset (``all``, ``excluding cold_start``, ``only cold_start``)."""
    if split is None or split.empty or "subset" not in split:
        return {}
    return {str(r["subset"]): r.to_dict() for _, r in split.iterrows()}


def data_quality_view(investigation: Any) -> Any:
    """The data-quality appendix of an investigation as HTML (verdict, totals, per frame)."""
    from IPython.display import HTML

    findings = investigation.computed_findings
    dq = data_quality(investigation.bundle, detector_errors=getattr(findings, "errors", None), issues=investigation.issues)
    return HTML(data_quality_html(dq))


def metrics_named(metrics: Any, *names: str, stat: str | None = None) -> Any:
    """The rows of a long metrics frame whose metric name contains one of ``names``.

    Example
    -------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"metric_name": ["Duration", "Errors", "Throttles"], "stat": ["p99", "Sum", "Sum"]})
    >>> metrics_named(m, "Error", "Throttl")["metric_name"].tolist()
    ['Errors', 'Throttles']
    """
    import pandas as pd

    if metrics is None or len(metrics) == 0:
        return metrics
    mask = pd.Series(False, index=metrics.index)
    for n in names:
        mask |= metrics["metric_name"].astype(str).str.contains(n, regex=False)
    if stat is not None:
        mask &= metrics["stat"].astype(str).str.lower() == stat.lower()
    return metrics[mask]


def settings_table(settings: Any, *names: str) -> Any:
    """Configuration settings (``schema.SETTING_COLUMNS``) as resource × setting, optionally only ``names``."""
    import pandas as pd

    if settings is None or len(settings) == 0:
        return pd.DataFrame(columns=["resource_type", "resource_id", "setting", "value"])
    df = settings
    if names:
        df = df[df["setting"].astype(str).isin(names)]
    return df[["resource_type", "resource_id", "setting", "value"]].drop_duplicates().reset_index(drop=True)


# -- tables for reading -----------------------------------------------------------------------

#: Rows a :class:`Table` shows (the caption says how many more there are).
TABLE_ROWS = 50


class Table:
    """A DataFrame shown for reading: numbers formatted by column name, wide tables scroll.

    ``_repr_html_`` formats each value with :func:`incidentkit._util.fmt.value` under its column's
    name (``share``/``rate`` columns as %, ``p_value``/``q_value`` as ``< 0.001``, ``*_ms``
    with the unit, thousands separators), escapes every cell, hides a plain 0..n-1 index and
    wraps the table in a horizontally scrolling box. The frame itself is unchanged
    (:attr:`frame`), and a terminal shows pandas' own text.

    Parameters
    ----------
    frame:
        The DataFrame (a Series is shown as one column; a dict of results as one row per key,
        each value formatted by its key).
    units:
        Column -> unit (``"ms"``, ``"s"``) for columns whose name does not say it (``p99``).
    limit:
        Rows shown.

    Example
    -------
    >>> import pandas as pd
    >>> html = Table(pd.DataFrame({"value": ["<b>"], "share": [0.25], "p_value": [1.4e-14], "p99": [7830.1]}),
    ...              units={"p99": "ms"})._repr_html_()
    >>> "25 %" in html and "&lt; 0.001" in html and "7,830 ms" in html and "&lt;b&gt;" in html
    True
    """

    def __init__(self, frame: Any, *, units: Mapping[str, str] | None = None, limit: int = TABLE_ROWS) -> None:
        import pandas as pd

        self.by_key = isinstance(frame, Mapping)  # a dict of results: one row per key, valued by its name
        if self.by_key:
            df = pd.DataFrame({"measure": [str(k) for k in frame], "value": [_plain(v) for v in frame.values()]})
        else:
            df = frame.to_frame() if isinstance(frame, pd.Series) else frame
        self.frame = df
        self.units = dict(units or {})
        self.limit = limit

    def _shown(self) -> Any:
        import pandas as pd

        df = self.frame
        if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
            df = df.reset_index()
        return df

    def _cell(self, value: Any, column: str) -> tuple[str, bool]:
        """(formatted text, is_number) of one value."""
        import pandas as pd

        if isinstance(value, pd.Timestamp):
            return (value.tz_convert("UTC") if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S"), False
        if value is None or (not isinstance(value, (str, bytes, list, dict, tuple)) and pd.isna(value)):
            return "—", False
        unit = self.units.get(column)
        name = f"{column}_{unit}" if unit else column
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return _fmt(value, name), is_number

    def _repr_html_(self) -> str:
        df = self._shown()
        shown = df.head(self.limit)
        columns = [str(c) for c in shown.columns]
        head = "".join(f'<th class="ik-text" style="padding:3px 10px;border-bottom:1px solid #cbd5e1">{_e(c)}</th>'
                       for c in columns)
        rows = []
        for record in shown.itertuples(index=False, name=None):
            cells = []
            for value, column in zip(record, columns):
                name = str(record[0]) if self.by_key and column == "value" else column
                text, is_number = self._cell(value, name)
                align = "right" if is_number else "left"
                cells.append(f'<td class="{"ik-num" if is_number else "ik-text"}" style="padding:2px 10px;text-align:{align}">'
                             f"{_e(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        more = (f'<div style="color:#64748b;font-size:12px">showing {len(shown):,} of {len(df):,} rows</div>'
                if len(df) > len(shown) else "")
        return (f'<div class="ik-table-wrap" style="overflow-x:auto;max-width:100%"><table class="ik-table" '
                f'style="border-collapse:collapse;font-size:12.5px"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>{more}</div>')

    def __repr__(self) -> str:
        return mask_text(self._shown().head(self.limit).to_string(index=False))


def _plain(value: Any) -> Any:
    """A dict value as one cell: lists and dicts as compact JSON text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def table(frame: Any, *, units: Mapping[str, str] | None = None, limit: int = TABLE_ROWS) -> Table:
    """``frame`` shown for reading in a report (see :class:`Table`)."""
    return Table(frame, units=units, limit=limit)
