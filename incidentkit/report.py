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
import math
import numbers
import os
import re
from typing import Any, Iterable, Mapping, Sequence

from .masking import mask_obj, mask_text

__all__ = [
    "MIME",
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
]

#: MIME type of the results a template publishes (read back by the runner).
MIME = "application/vnd.incidentkit.result+json"

#: Background / text colours per severity (readable in light and dark themes).
SEVERITY_COLORS: dict[str, tuple[str, str]] = {
    "critical": ("#7f1d1d", "#ffffff"),
    "high": ("#c2410c", "#ffffff"),
    "medium": ("#b45309", "#ffffff"),
    "low": ("#1d4ed8", "#ffffff"),
    "info": ("#475569", "#ffffff"),
}

_FILE_MODE = 0o600


# -- small helpers ----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return _html.escape(mask_text(str(value)), quote=True)


_FRACTION_WORDS = frozenset({"share", "fraction", "rate"})
_PVALUE_NAMES = frozenset({"p", "pvalue", "p_value", "p_val"})


def _words(name: str) -> list[str]:
    return name.lower().split("_")


def _is_fraction_name(name: str) -> bool:
    """A part of a whole: a word ``share``, ``fraction`` or ``rate``, but no ``per`` (``rate_per_min``) or ``limit``."""
    words = _words(name)
    return bool(_FRACTION_WORDS.intersection(words)) and not {"per", "limit"}.intersection(words)


def _is_pvalue_name(name: str) -> bool:
    low = name.lower()
    return low in _PVALUE_NAMES or low.endswith(("_p_value", "_pvalue"))


def _unit(name: str) -> str | None:
    """``ms`` / ``s`` when the name ends with that unit (and is no per-unit rate such as ``units_per_s``)."""
    words = _words(name)
    if "per" in words:
        return None
    if words[-1] == "ms":
        return "ms"
    if words[-1] in ("s", "seconds", "secs"):
        return "s"
    return None


def _percent(x: float) -> str:
    if x == 0:
        return "0 %"
    if x == 1:
        return "100 %"
    pct = 100 * x
    if pct < 0.1:
        return "< 0.1 %"
    if pct > 99.9:
        return "> 99.9 %"
    return f"{pct:.1f}".removesuffix(".0") + " %"


def _pvalue(x: float) -> str:
    if x < 0.001:
        return "< 0.001"
    return f"{x:.3f}" if x < 0.01 else f"{x:.2f}"


def _trim(text: str) -> str:
    """``20.50`` -> ``20.5``, ``88.0`` -> ``88`` (trailing zeros say nothing to a reader)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _duration(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return _trim(f"{x:,.1f}")
    if x == 0 or abs(x) >= 0.01:
        return _trim(f"{x:.2f}")
    return "< 0.01" if x > 0 else "> -0.01"


def _number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return _trim(f"{x:,.2f}")
    return f"{x:.3g}"


def _fmt(value: Any, name: str | None = None) -> str:
    """A value for a reader, formatted by what its evidence ``name`` says it measures.

    Pure: the value itself is not changed (``findings.json`` keeps the raw number).

    - ``None`` / NaN: ``—``; booleans: ``yes`` / ``no``; text as it is.
    - A part of a whole (a name word ``share``, ``fraction`` or ``rate``: ``error_share``,
      ``cold_share_of_tail``, ``error_rate_near_deploys``; not a per-time ``rate_per_min`` nor
      a ``rate_limit``) between 0 and 1: a percentage (``6.4 %``, ``100 %``, ``< 0.1 %``,
      ``> 99.9 %``). Ratios and lifts are not parts of a whole and stay numbers; so does a
      "share" outside 0..1 (it is not what its name says, and the raw number is more honest).
    - A p-value (``p_value``, ``*_pvalue``, ...) between 0 and 1: ``< 0.001``, ``0.004``, ``0.03``.
    - Durations (``*_ms``, ``*_s``; not ``*_per_s``): thousands separators and the unit
      (``6,749 ms``, ``12.5 ms``, ``29 s``).
    - Other numbers: thousands separators, integers as integers, at most 2 decimals from 1
      to 100 (no trailing zeros), none from 100, 3 significant figures below 1.

    Parameters
    ----------
    value:
        The value to show.
    name:
        Its evidence name (optional: without it only the value's type decides).

    Example
    -------
    >>> _fmt(0.064, "cold_share_overall"), _fmt(0.0, "p_value"), _fmt(6749.15, "tail_all_ms")
    ('6.4 %', '< 0.001', '6,749 ms')
    >>> _fmt(15.6364, "lift"), _fmt(1.5, "quiet_rate_per_min"), _fmt(12345)
    ('15.64', '1.5', '12,345')
    """
    if value is None:
        return "—"
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return "yes" if value else "no"
    if not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "—"
    if name:
        if 0 <= x <= 1 and _is_fraction_name(name):
            return _percent(x)
        if 0 <= x <= 1 and _is_pvalue_name(name):
            return _pvalue(x)
        unit = _unit(name)
        if unit and math.isfinite(x):
            return _duration(x) + " " + unit
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if math.isinf(x):
        return str(value)
    return _number(x)


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
        f'<span style="background:{bg};color:{fg};border-radius:4px;padding:2px 8px;font-weight:700;'
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
            '<div style="border:1px solid #f59e0b;border-radius:6px;padding:8px 12px;margin:8px 0;background:#fffbeb;color:#78350f">'
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
        f'<tr><td style="padding:2px 12px 2px 0;color:#475569;white-space:nowrap;min-width:{name_width}ch">{_e(k)}</td>'
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
    changes = f.get("related_changes") or []
    ch_rows = "".join(
        "<li><code>{}</code> {} {} {}</li>".format(
            _e(c.get("timestamp", "")), _e(c.get("event_name", "")), _e(c.get("resource", "") or ""),
            f'<span style="color:#b91c1c">({_e(c["error_code"])})</span>' if c.get("error_code") else "",
        )
        for c in changes[:8]
    )
    if len(changes) > 8:
        ch_rows += f"<li>… and {len(changes) - 8} more</li>"
    body = [
        f'<div id="finding-{_e(f.get("id", ""))}" style="border:1px solid #cbd5e1;border-left:8px solid {bg};border-radius:6px;'
        'padding:10px 14px;margin:8px 0;background:rgba(148,163,184,.06)">',
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
        body.append(f'<div style="margin-top:6px"><b>Preceding changes</b><ul style="margin:4px 0">{ch_rows}</ul></div>')
    body.append("</div>")
    return "".join(body)


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
        flag = "" if r.get("complete", True) and not r.get("truncated") else ' style="background:#fef3c7;color:#78350f"'
        rows.append(
            f"<tr{flag}><td><code>{_e(r.get('frame'))}</code></td><td>{_e(r.get('source') or r.get('kind') or '')}</td>"
            f"<td style='text-align:right'>{_fmt(r.get('rows'))}</td><td style='text-align:right'>{_fmt(r.get('api_calls'))}</td>"
            f"<td style='text-align:right'>{_fmt(r.get('retries'))}</td><td>{'yes' if r.get('complete', True) else 'NO'}</td>"
            f"<td>{'YES' if r.get('truncated') else 'no'}</td><td style='text-align:right'>{_fmt(r.get('parse_errors'))}</td>"
            f"<td>{_e(r.get('issues') or '')}</td></tr>"
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
            show: bool = True, level: int = 2) -> dict[str, Any]:
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
    }
    if postmortem is None and inv is not None:
        postmortem = postmortem_data(inv, findings or [])
    result["postmortem"] = dict(postmortem or {})
    result = mask_obj(json.loads(json.dumps(result, default=str)))
    if show:
        from IPython.display import display

        md = postmortem_markdown(result, level=level)
        display({"text/markdown": md, "text/plain": md, MIME: result}, raw=True)
    return result


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
    return found


def findings_document(*, template: str, published: Mapping[str, Any] | None, parameters: Mapping[str, Any],
                      bundle: Any = None) -> dict[str, Any]:
    """The ``findings.json`` content (design.md's shape, plus ``data_quality``)."""
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
    doc = {
        "template": template,
        "window": window,
        "baseline": baseline,
        "parameters": params,
        "findings": list(pub.get("findings") or []),
        "data_quality": data_quality(bundle, detector_errors=pub.get("detector_errors"), issues=issues),
        "generated": _now_iso(),
    }
    if pub.get("sample"):
        doc["sample"] = pub["sample"]
    from . import __version__

    doc["incidentkit_version"] = __version__
    return mask_obj(doc)


# -- postmortem -------------------------------------------------------------------------------


def postmortem_data(investigation: Any, findings: Iterable[Any]) -> dict[str, Any]:
    """Facts for a blameless postmortem: impact, timeline, causes, actions, evidence.

    Computed from what the investigation fetched; each part says when the evidence for it
    is missing instead of guessing.
    """
    from . import postmortem as _pm  # noqa: F401  (kept separate: pure functions on frames)

    return _pm.build(investigation, findings)


def postmortem_markdown(result: Mapping[str, Any], *, links: bool = True, level: int = 1) -> str:
    """The postmortem as Markdown from published results (see :func:`publish`).

    ``level`` is the level of its top heading (2 inside a notebook section).
    """
    from . import postmortem as _pm

    text = _pm.markdown(result, links=links)
    if level > 1:
        text = re.sub(r"(?m)^(#+) ", lambda m: "#" * (len(m.group(1)) + level - 1) + " ", text)
    return mask_text(text)


# -- writing run files ------------------------------------------------------------------------


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write masked text to ``path`` (mode 0600)."""
    from .evidence import atomic_write_text

    atomic_write_text(path, mask_text(text), mode=_FILE_MODE)


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write masked JSON to ``path`` (mode 0600)."""
    from .evidence import atomic_write_text

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

    from .evidence import atomic_write_text

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


def to_html(nb: Mapping[str, Any], *, hide_code: bool = False) -> str:
    """Render a notebook to standalone HTML (masked), optionally without code cells."""
    from nbconvert import HTMLExporter

    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab")
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
    body, _resources = exporter.from_notebook_node(mask_notebook(nb))
    return _mask_html(body)


def write_html(nb: Mapping[str, Any], path: str | os.PathLike[str], *, hide_code: bool = False, failed: bool = False) -> None:
    """Write ``report.html`` (mode 0600). ``failed`` adds nothing: papermill's banner shows the error."""
    from .evidence import atomic_write_text

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

    from .analyses import onset as _onset

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


def changes_table(changes: Any, *, limit: int = 30) -> Any:
    """The change timeline for reading: time, class, what, resource, who (blameless), error."""
    import pandas as pd

    from .postmortem import blameless_actor

    if changes is None or len(changes) == 0:
        return pd.DataFrame(columns=["time (UTC)", "class", "change", "resource", "by", "error"])
    df = changes.sort_values("timestamp").tail(limit)
    out = pd.DataFrame(
        {
            "time (UTC)": df["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "class": df["class"],
            "change": df["event_name"],
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


def traffic_note(requests: Any, baseline_requests: Any = None) -> Any:
    """One paragraph: requests, failure rates by class, against the baseline."""
    from .postmortem import impact

    imp = impact(requests, baseline_requests)
    if not imp.get("requests"):
        return note("No request-level logs in the evidence: traffic and error rates come from metrics only.")
    text = (
        f"**{imp['requests']:,} requests** in the incident window; **{imp['failed']:,} failed** "
        f"({_rate(imp['error_rate'])}: {imp['failed_5xx']:,} 5xx or timeouts, {imp['failed_4xx']:,} 4xx)"
    )
    if imp.get("baseline_error_rate") is not None:
        text += f", against {_rate(imp['baseline_error_rate'])} in the baseline ({imp['baseline_requests']:,} requests)"
    if imp.get("clients") is not None:
        text += f". {imp['clients_affected']:,} of {imp['clients']:,} clients (distinct IPs) saw a failure"
    return note(text + ".")


def latency_note(requests: Any, baseline_requests: Any = None) -> Any:
    """One paragraph: P50/P90/P99, against the baseline, and with cold starts left out."""
    import pandas as pd

    from .analyses import latency as _latency

    if requests is None or len(requests) == 0:
        return note("No request-level logs in the evidence: latency comes from metrics only.")
    split = _latency.percentiles_excluding(requests)
    if split is None or split.empty:
        return note("The requests carry no latency.")
    rows = {str(r["subset"]): r for _, r in split.iterrows()} if "subset" in split else {}
    allr = rows.get("all")
    if allr is None:
        return note("The requests carry no latency.")
    text = f"P50 **{_ms(allr.get('p50'))}**, P90 **{_ms(allr.get('p90'))}**, P99 **{_ms(allr.get('p99'))}** over {int(allr.get('count', 0)):,} requests"
    if baseline_requests is not None and len(baseline_requests):
        b = _latency.percentiles_excluding(baseline_requests)
        ball = b[b["subset"].astype(str) == "all"] if "subset" in b else pd.DataFrame()
        if len(ball):
            text += f" (baseline P99 {_ms(ball.iloc[0].get('p99'))})"
    warm = rows.get("excluding cold_start")
    cold = rows.get("only cold_start")
    if warm is not None and cold is not None and int(cold.get("count", 0) or 0) > 0:
        text += (
            f". Without cold starts the P99 is **{_ms(warm.get('p99'))}**; the {int(cold.get('count', 0)):,} cold starts "
            f"have a P50 of {_ms(cold.get('p50'))}"
        )
    return note(text + ".")


def data_quality_view(investigation: Any) -> Any:
    """The data-quality appendix of an investigation as HTML (verdict, totals, per frame)."""
    from IPython.display import HTML

    findings = investigation._findings
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
