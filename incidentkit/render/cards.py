"""Findings as a reader sees them: HTML cards (severity colour, evidence, remediation, related
changes), plain text for a terminal, and the data-quality appendix.

Every value from the data is masked and escaped here; numbers are formatted by
:mod:`incidentkit._util.fmt`.

Example
-------
>>> from incidentkit.findings import Finding
>>> html = findings_html([Finding(id="cold-start-tail", title="Cold starts make the P99",
...                               severity="medium", summary="82% of the tail were cold starts.")])
>>> "cold-start-tail" in html and "MEDIUM" in html
True
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from .._util.blameless import blameless_actor
from .._util.fmt import value as _fmt
from ..errors import summarize
from ..fetch.changes import normalize_event_name
from ..masking import mask_text
from .markup import html_text as _e
from .theme import SEVERITY_COLORS

__all__ = ["findings_html", "findings_text", "data_quality_html", "inline_code", "ISSUE_LIMIT"]

#: Longest data-quality issue line kept (errors.summarize).
ISSUE_LIMIT = 300

# -- small helpers ----------------------------------------------------------------------------


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


def inline_code(escaped: str) -> str:
    """Markdown code spans (`` `name` ``) in already escaped HTML text as ``<code>``.

    Call it only on the output of :func:`_e`: the text is masked and escaped first, so a
    span's content can only be text, never markup.

    Example
    -------
    >>> inline_code("in version `2.9.0` &lt;b&gt;")
    'in version <code>2.9.0</code> &lt;b&gt;'
    """
    return _CODE_SPAN.sub(r"<code>\1</code>", escaped)


def _records_text(values: Sequence[Any]) -> str:
    """A list of records (a generic finding's ``signatures``, ``concentrated_in``) one per line:
    ``template: Runtime exited …, count: 78, new: True``; each value formatted by its key."""
    def one(x: Any) -> str:
        if isinstance(x, Mapping):
            return ", ".join(f"{k}: {_fmt(v, str(k))}" for k, v in x.items())
        return str(_fmt(x, ""))

    return "\n".join(one(x) for x in values)


def _evidence_rows(items: Sequence[tuple[str, Any]], name_width: int) -> str:
    rows = []
    for k, v in items:
        if isinstance(v, (list, tuple)):  # records wrap, one a line, instead of widening the card
            value = f'<td style="padding:2px 0;font-weight:600;white-space:pre-line;max-width:90ch">{_e(_records_text(v))}</td>'
        else:
            value = f'<td style="padding:2px 0;font-variant-numeric:tabular-nums;font-weight:600;white-space:nowrap">{_e(_fmt(v, k))}</td>'
        rows.append(f'<tr><td style="padding:2px 12px 2px 0;color:#475569;white-space:nowrap;text-align:left;'
                    f'min-width:{name_width}ch;vertical-align:top">{_e(k)}</td>{value}</tr>')
    return "".join(rows)


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
    rem = "".join(f"<li>{inline_code(_e(r))}</li>" for r in f.get("remediation") or [])
    ch_rows = _related_changes_html(f.get("related_changes") or [])
    body = [
        f'<div id="finding-{_e(f.get("id", ""))}" style="border:1px solid #cbd5e1;border-left:8px solid {bg};border-radius:6px;'
        'padding:10px 14px;margin:8px 0;background-color:rgba(148,163,184,.06)">',
        f'<div style="display:flex;gap:10px;align-items:center;flex-wrap:wrap"><span style="font-weight:700;color:#64748b">#{rank}</span>'
        f'{_badge(severity)}<span style="font-size:16px;font-weight:700">{inline_code(_e(f.get("title", "")))}</span></div>',
        f'<div style="color:#64748b;font-size:12px;margin:2px 0 6px"><code>{_e(f.get("id", ""))}</code>{conf_txt}{onset}</div>',
        f'<div style="margin:4px 0 8px;line-height:1.45">{inline_code(_e(f.get("summary", "")))}</div>',
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
