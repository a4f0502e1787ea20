"""Rich displays: findings, the change timeline and an investigation, in a notebook or a terminal.

Jupyter shows an object through its ``_repr_html_``; a terminal prints its ``str``. The
classes of the kit (:class:`~incidentkit.findings.Finding`,
:class:`~incidentkit.findings.FindingList`,
:class:`~incidentkit.investigation.Investigation`) delegate both to this module, and
:class:`ChangeTimeline` wraps a change-timeline frame so it shows the same way.

The finding cards themselves are :func:`incidentkit.render.cards.findings_html` /
:func:`~incidentkit.render.cards.findings_text` (the report and the notebook never disagree);
this module adds what an interactive reader needs around them: a ranked summary table,
the checks that could not run, the change timeline relative to the incident, and an
investigation's window, resources and evidence.

Everything rendered here is masked (:mod:`incidentkit.masking`): a token in a log line
or an ARN in a finding shows as ``[masked:...]``, never in clear.

Stable HTML class names (for styling and tests): ``ik-findings-view`` (a list of findings),
``ik-findings-table`` (its ranked summary table), ``ik-finding-view`` (one finding),
``ik-timeline`` / ``ik-timeline-table`` (the change timeline), ``ik-investigation``.

Example
-------
>>> from incidentkit.findings import Finding, FindingList
>>> fl = FindingList([Finding(id="cold-start-tail", title="Cold starts make the P99", severity="high",
...                           summary="82% of the tail were cold starts.", evidence={"cold_share_of_tail": 0.82})])
>>> "ik-findings-view" in findings_html(fl) and "ik-findings-table" not in findings_html(fl)  # one finding: its card
True
>>> print(findings_text(fl).splitlines()[0])
1 finding, most likely cause first:
"""

from __future__ import annotations

import math
import shutil
import textwrap
from typing import Any, Iterable, Mapping

import pandas as pd

from .. import schema
from .._util import views
from ..masking import mask_text
from ..window import parse_time
from . import cards
from .results import data_quality
from .markup import html_text as _e
from .story import changes_table
from .theme import CHANGE_COLORS, SEVERITY_COLORS

__all__ = [
    "findings_html",
    "findings_text",
    "finding_html",
    "finding_text",
    "timeline_html",
    "timeline_text",
    "ChangeTimeline",
    "investigation_html",
    "investigation_text",
    "investigation_repr",
]

# Theme-aware colours: JupyterLab's CSS variables, with fallbacks for plain HTML.
_MUTED = "var(--jp-ui-font-color2, #64748b)"
_BORDER = "var(--jp-border-color2, #cbd5e1)"
_FONT = "font-family:var(--jp-ui-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif)"
_CELL = "padding:3px 10px 3px 0;text-align:left;vertical-align:top"
_HEAD = (f"padding:3px 10px 3px 0;text-align:left;color:{_MUTED};font-weight:600;border-bottom:1px solid {_BORDER};"
         "white-space:nowrap")
# JupyterLab right-aligns every cell of rendered HTML tables; the report's cards (evidence names,
# remediation) read left-aligned. Scoped to the kit's own views; harmless where <style> is stripped.
_STYLE = ("<style>.ik-findings-view .ik-findings td,.ik-findings-view .ik-findings th,.ik-finding-view td,"
          ".ik-finding-view th,.ik-investigation td,.ik-investigation th{text-align:left}</style>")


def _width() -> int:
    return max(60, min(110, shutil.get_terminal_size((100, 24)).columns))


def _wrap(text: str, width: int | None = None) -> str:
    """Wrap each line to the terminal width, keeping its indent (and a list marker's hang)."""
    width = width or _width()
    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        indent = " " * (len(line) - len(stripped))
        marker = ""
        head = stripped.split(" ", 1)[0]
        if head in ("-", "*") or (head.endswith(".") and head[:-1].isdigit()):
            marker = " " * (len(head) + 1)
        out.append(textwrap.fill(stripped, width=width, initial_indent=indent, subsequent_indent=indent + marker,
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def _dicts(findings: Iterable[Any]) -> list[dict[str, Any]]:
    return [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in findings or []]


def _badge(severity: str) -> str:
    bg, fg = SEVERITY_COLORS.get(severity, SEVERITY_COLORS["info"])
    return (
        f'<span class="ik-severity ik-severity-{_e(severity)}" style="background-color:{bg};color:{fg};border-radius:4px;'
        f'padding:1px 7px;font-weight:700;font-size:11px;letter-spacing:.04em;white-space:nowrap">{_e(severity.upper())}</span>'
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# -- findings -------------------------------------------------------------------------------------


def findings_html(findings: Iterable[Any], *, title: str | None = None) -> str:
    """A ranked list of findings as HTML: a summary table, then one card per finding.

    Parameters
    ----------
    findings:
        A :class:`~incidentkit.findings.FindingList` (its ``errors`` are shown: a check that
        could not run does not rule its cause out), or any iterable of findings / dicts.
    title:
        A heading; default "N findings, most likely cause first".

    Returns
    -------
    str
        HTML in a ``div.ik-findings-view``; the table has class ``ik-findings-table``.

    Example
    -------
    >>> from incidentkit.findings import Finding
    >>> html = findings_html([Finding(id="scan-read-burst", title="Nightly scan", severity="medium", summary="...")])
    >>> "MEDIUM" in html and "scan-read-burst" in html
    True
    """
    items = _dicts(findings)
    errors: Mapping[str, str] = getattr(findings, "errors", None) or {}
    if title is None:
        title = (f"{_plural(len(items), 'finding')}, most likely cause first" if items
                 else "Findings")
    # One full card per finding; with several, a ranked index above them links to each card.
    parts = [_STYLE, f'<div class="ik-findings-view" style="{_FONT};max-width:1100px">',
             f'<div style="font-size:15px;font-weight:700;margin:4px 0 6px">{_e(title)}</div>',
             _findings_table(items) if len(items) > 1 else ""]
    # The cards (and the checks that could not run) are the report's own rendering.
    unread = getattr(findings, "inconclusive", None)
    empty = ("Inconclusive: the logs could not be read, so no cause is ruled out (see the data quality)" if unread
             else "No finding: the evidence shows none of the known causes.")
    parts.append(cards.findings_html(items, errors=dict(errors), empty=empty))
    parts.append("</div>")
    return "".join(parts)


def _findings_table(items: list[dict[str, Any]]) -> str:
    """The ranked summary table (``table.ik-findings-table``); empty string for no finding."""
    if not items:
        return ""
    with_onset = any(f.get("onset") for f in items)
    rows = []
    for rank, f in enumerate(items, 1):
        conf = f.get("confidence")
        conf_txt = f"{float(conf):.0%}" if isinstance(conf, (int, float)) and not math.isnan(float(conf)) else "—"
        onset = f'<td style="{_CELL};white-space:nowrap">{_e(f.get("onset") or "—")}</td>' if with_onset else ""
        rows.append(
            f'<tr class="ik-finding-row"><td style="{_CELL};color:{_MUTED}">{rank}</td>'
            f'<td style="{_CELL}">{_badge(str(f.get("severity", "info")))}</td>'
            f'<td style="{_CELL};font-weight:600"><a href="#finding-{_e(f.get("id", ""))}">{cards.inline_code(_e(f.get("title", "")))}</a></td>'
            f'<td style="{_CELL}"><code>{_e(f.get("id", ""))}</code></td>'
            f'<td style="{_CELL};text-align:right;font-variant-numeric:tabular-nums">{conf_txt}</td>{onset}</tr>'
        )
    onset_head = f'<th style="{_HEAD}">onset (UTC)</th>' if with_onset else ""
    return (
        f'<table class="ik-findings-table" style="border-collapse:collapse;font-size:13px;margin:0 0 6px">'
        f'<thead><tr><th style="{_HEAD}">#</th><th style="{_HEAD}">severity</th><th style="{_HEAD}">finding</th>'
        f'<th style="{_HEAD}">id</th><th style="{_HEAD};text-align:right">confidence</th>{onset_head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )

def findings_text(findings: Iterable[Any]) -> str:
    """A ranked list of findings as plain text for a terminal, wrapped to its width.

    Example
    -------
    >>> from incidentkit.findings import FindingList
    >>> findings_text(FindingList([], errors={"scan-read-burst": "KeyError: 'table'"})).splitlines()[-1]
    "  - scan-read-burst: KeyError: 'table'"
    """
    items = _dicts(findings)
    errors: Mapping[str, str] = getattr(findings, "errors", None) or {}
    lines = []
    if items:
        lines.append(f"{_plural(len(items), 'finding')}, most likely cause first:")
    lines.append(cards.findings_text(items))
    if errors:
        lines.append("Checks that could not run (their causes are not ruled out):")
        lines.extend(f"  - {k}: {v}" for k, v in errors.items())
    return _wrap(mask_text("\n".join(lines)))


def finding_html(finding: Any) -> str:
    """One finding as an HTML card (severity colour, evidence numbers, remediation).

    Example
    -------
    >>> from incidentkit.findings import Finding
    >>> "ik-finding-view" in finding_html(Finding(id="x", title="t", severity="low", summary="s"))
    True
    """
    card = cards.findings_html(_dicts([finding]))
    # A lone card is not ranked: drop the report's "#1" (finding 3 of a list shown alone is not #1).
    card = card.replace(">#1</span>", "></span>", 1)
    return f'{_STYLE}<div class="ik-finding-view" style="{_FONT}">{card}</div>'


def finding_text(finding: Any) -> str:
    """One finding as plain text (the report's block, without a rank)."""
    text = cards.findings_text(_dicts([finding]))
    if text.startswith("#1 "):
        text = text[3:]
    conf = getattr(finding, "confidence", None)
    first, _, rest = text.partition("\n")
    if isinstance(conf, (int, float)):
        first += f"  · confidence {conf:.0%}"
    return _wrap(mask_text(first + ("\n" + rest if rest else "")))


# -- the change timeline --------------------------------------------------------------------------


def _relative(ts: pd.Timestamp, start: pd.Timestamp) -> str:
    """``-14 min`` / ``+2 h 05 min`` / ``at onset`` from the incident start."""
    delta = (ts - start).total_seconds()
    sign = "-" if delta < 0 else "+"
    secs = int(abs(delta))
    if secs < 60:
        return "at start" if secs == 0 else f"{sign}{secs} s"
    mins = secs // 60
    if mins < 120:
        return f"{sign}{mins} min"
    hours, mins = divmod(mins, 60)
    if hours < 48:
        return f"{sign}{hours} h {mins:02d} min"
    return f"{sign}{hours // 24} d {hours % 24} h"


def _window_of(window: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    if hasattr(window, "start") and hasattr(window, "end"):
        return pd.Timestamp(window.start), pd.Timestamp(window.end)
    start, end = window
    return parse_time(start), parse_time(end)


def _timeline_rows(changes: pd.DataFrame | None, window: Any, limit: int) -> tuple[pd.DataFrame, int, Any]:
    """The rows to show (story.changes_table's columns, plus ``vs incident``), hidden count, bounds."""
    table = changes_table(changes, limit=limit)
    n = 0 if changes is None else len(changes)
    bounds = _window_of(window)
    if bounds is not None and n:
        ts = changes.sort_values("timestamp").tail(limit)["timestamp"].reset_index(drop=True)
        table["vs incident"] = [_relative(t, bounds[0]) for t in ts]
        table["in window"] = [(bounds[0] <= t < bounds[1]) for t in ts]
    return table, max(0, n - len(table)), bounds


def timeline_html(changes: pd.DataFrame | None, *, window: Any = None, limit: int = 50,
                  title: str | None = None) -> str:
    """The change timeline as an HTML table: when, what class, what changed, where, by whom.

    Parameters
    ----------
    changes:
        A change-timeline frame (``schema.CHANGE_COLUMNS``, from ``changes.timeline`` or
        ``Investigation.changes()``).
    window:
        The incident window (a Window or ``(start, end)``): each change shows how long
        before (``-14 min``) or after the incident start it came; changes inside the
        window are marked.
    limit:
        Show the last ``limit`` changes (the table says how many more there are).

    Returns
    -------
    str
        HTML in a ``div.ik-timeline``; the table has class ``ik-timeline-table``. Actors
        are shown blameless (``role deploy-pipeline``, ``an IAM user``).

    Example
    -------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T02:50Z"]), "source": ["cloudtrail"],
    ...                    "event_name": ["UpdateFunctionCode"], "class": ["DEPLOYMENT"],
    ...                    "actor": ["arn:aws:iam::123456789012:user/alice"], "resource": ["api"],
    ...                    "error_code": [None], "detail": ["{}"]})
    >>> html = timeline_html(ch, window=("2026-03-01T03:00Z", "2026-03-01T04:00Z"))
    >>> "-10 min" in html and "alice" not in html
    True
    """
    table, hidden, bounds = _timeline_rows(changes, window, limit)
    n = 0 if changes is None else len(changes)
    if title is None:
        title = "Change timeline"
    head = [f'<div class="ik-timeline" style="{_FONT};max-width:1100px">',
            f'<div style="font-size:15px;font-weight:700;margin:4px 0 2px">{_e(title)}</div>']
    if not n:
        head.append(f'<div style="color:{_MUTED};margin:2px 0 6px">No change recorded in the window read: no deployment, '
                    "configuration, scaling or security change was found.</div></div>")
        return "".join(head)
    counts = table["class"].astype(str).value_counts() if len(table) else pd.Series(dtype="int64")
    by_class = ", ".join(f"{_plural(int(c), k.lower().replace('_', ' '))}" for k, c in counts.items())
    span = ""
    if changes is not None and n:
        t = pd.to_datetime(changes["timestamp"], utc=True)
        span = f" from {t.min():%Y-%m-%d %H:%M} to {t.max():%Y-%m-%d %H:%M} UTC"
    head.append(f'<div style="color:{_MUTED};margin:0 0 6px">{_e(_plural(n, "change"))}{_e(span)}: {_e(by_class)}'
                + (f" · showing the last {len(table)}" if hidden else "") + "</div>")
    cols = ["time (UTC)", *(["vs incident"] if "vs incident" in table.columns else []), "class", "change", "resource", "by", "error"]
    ths = "".join(f'<th style="{_HEAD}">{_e(c)}</th>' for c in cols)
    rows = []
    for r in table.to_dict("records"):
        color = CHANGE_COLORS.get(str(r.get("class")), CHANGE_COLORS["OTHER"])
        inside = bool(r.get("in window"))
        style = ' style="background-color:rgba(231,76,60,.08)"' if inside else ""
        cells = []
        for c in cols:
            v = r.get(c)
            if c == "class":
                cells.append(f'<td style="{_CELL};white-space:nowrap"><span style="display:inline-block;width:9px;height:9px;'
                             f'border-radius:50%;background-color:{color};margin-right:5px"></span>{_e(v)}</td>')
            elif c == "error":
                cells.append(f'<td style="{_CELL};color:#b91c1c;font-weight:600">{_e(v or "")}</td>')
            elif c == "change":
                cells.append(f'<td style="{_CELL};white-space:nowrap"><code>{_e(v)}</code></td>')
            elif c == "resource":
                cells.append(f'<td style="{_CELL};white-space:nowrap">{_e(v if v is not None else "")}</td>')
            elif c == "vs incident":
                cells.append(f'<td style="{_CELL};white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums'
                             f'{";font-weight:700" if inside else ""}">{_e(v)}</td>')
            else:
                cells.append(f'<td style="{_CELL}{";white-space:nowrap" if c == "time (UTC)" else ""}">{_e(v if v is not None else "")}</td>')
        rows.append(f'<tr class="ik-change-row"{style}>{"".join(cells)}</tr>')
    note = ""
    if bounds is not None:
        note = (f'<div style="color:{_MUTED};font-size:12px;margin-top:4px">Times relative to the incident start '
                f'{bounds[0]:%Y-%m-%d %H:%M} UTC; shaded rows fall inside the incident window.</div>')
    body = (f'<table class="ik-timeline-table" style="border-collapse:collapse;font-size:13px"><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>{note}</div>')
    return "".join(head) + body


def timeline_text(changes: pd.DataFrame | None, *, window: Any = None, limit: int = 50) -> str:
    """The change timeline as plain text (one line a change), for a terminal."""
    table, hidden, _bounds = _timeline_rows(changes, window, limit)
    n = 0 if changes is None else len(changes)
    if not n:
        return "Change timeline: no change recorded in the window read."
    lines = [f"Change timeline: {_plural(n, 'change')}" + (f" (the last {len(table)} shown)" if hidden else "")]
    for r in table.to_dict("records"):
        rel = f"{r['vs incident']:>12}  " if "vs incident" in r else ""
        mark = "*" if r.get("in window") else " "
        err = f"  [{r['error']}]" if r.get("error") else ""
        lines.append(f"{mark} {r['time (UTC)']}  {rel}{str(r['class']):<15} {r['change']}  {r['resource'] or ''}"
                     f"  (by {r['by']}){err}")
    if "vs incident" in table.columns:
        lines.append("  (* inside the incident window; times relative to its start)")
    return mask_text("\n".join(lines))  # one line a change: a table, not prose to wrap


class ChangeTimeline:
    """A change-timeline frame that displays as a table (HTML in Jupyter, text in a terminal).

    Parameters
    ----------
    changes:
        A change-timeline frame (``schema.CHANGE_COLUMNS``).
    window:
        The incident window, to show each change relative to its start.
    limit:
        Rows shown (the last ``limit`` changes).

    Attributes
    ----------
    frame:
        The frame itself, unchanged.

    Example
    -------
    >>> import incidentkit as ik
    >>> inv = ik.Investigation.sample("cold-start-tail")                     # doctest: +SKIP
    >>> ChangeTimeline(inv.changes(), window=inv.window)                      # doctest: +SKIP
    """

    def __init__(self, changes: pd.DataFrame | None, *, window: Any = None, limit: int = 50) -> None:
        self.frame = changes if changes is not None else schema.empty_frame("changes")
        self.window = window
        self.limit = limit

    def __len__(self) -> int:
        return len(self.frame)

    def _repr_html_(self) -> str:
        return timeline_html(self.frame, window=self.window, limit=self.limit)

    def __str__(self) -> str:
        return timeline_text(self.frame, window=self.window, limit=self.limit)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.__str__())


# -- the investigation ----------------------------------------------------------------------------


def _source(inv: Any) -> str:
    if getattr(inv, "sample_name", None):
        return f"sample {inv.sample_name}"
    if getattr(inv, "offline", False):
        return "offline (evidence bundle)"
    region = getattr(inv, "region", None) or "default region"
    prof = getattr(inv, "profile", None)
    endpoint = getattr(inv, "endpoint_url", None)
    return f"AWS {region}" + (f", profile {prof}" if prof else "") + (f" via {endpoint}" if endpoint else "")


def _dq(inv: Any) -> dict[str, Any]:
    findings = inv.computed_findings
    return data_quality(inv.bundle, detector_errors=getattr(findings, "errors", None),
                        issues=list(getattr(inv, "issues", []) or []))


def investigation_repr(inv: Any) -> str:
    """A short text form of an investigation (its ``repr``): window, source, evidence, findings.

    Never fetches nor runs the detectors: it shows what the investigation holds.
    """
    dq = _dq(inv)
    lines = [f"<Investigation {inv.window} · {_source(inv)}>"]
    if getattr(inv, "baseline", None) is not None:
        lines.append(f"  baseline  {inv.baseline}")
    state = "complete" if dq["complete"] else "INCOMPLETE: " + ", ".join(dq["incomplete_frames"] + dq["truncated_frames"])
    lines.append(f"  evidence  {_plural(dq['frames'], 'frame')}, {dq['rows']:,} rows, {dq['api_calls']:,} API calls, "
                 f"{state}  ({inv.bundle.path})")
    findings = inv.computed_findings
    if findings is None:
        lines.append("  findings  not run yet: call .findings()")
    elif not len(findings):
        lines.append("  findings  none: the evidence shows none of the known causes")
    else:
        top = findings[0]
        lines.append(f"  findings  {len(findings)}; most likely: [{top.severity.upper()}] {top.title} ({top.id})")
    if dq["detector_errors"]:
        lines.append(f"  checks that could not run: {', '.join(dq['detector_errors'])}")
    for issue in list(getattr(inv, "issues", []) or [])[:5]:
        lines.append(f"  issue     {issue}")
    return mask_text("\n".join(lines))


def investigation_text(inv: Any) -> str:
    """An investigation as plain text: its summary, resources and the findings when they ran."""
    lines = [investigation_repr(inv)]
    res = getattr(inv, "resources", {}) or {}
    if res:
        lines.append("  resources " + "; ".join(f"{k}={', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in res.items()))
    findings = inv.computed_findings
    if findings is not None:
        lines.append("")
        lines.append(findings_text(findings))
    return _wrap(mask_text("\n".join(lines)))


def investigation_html(inv: Any) -> str:
    """An investigation as HTML: window, source and resources; data quality; findings if run.

    Shows what the investigation holds; never fetches nor runs the detectors (call
    ``inv.findings()`` for that: its result displays on its own, and here afterwards).
    """
    dq = _dq(inv)
    kv = [("window", str(inv.window))]
    if getattr(inv, "baseline", None) is not None:
        kv.append(("baseline", str(inv.baseline)))
    ctx = getattr(inv, "context", None)
    if ctx is not None:
        kv.append(("metrics and changes read over", str(ctx)))
    kv.append(("source", _source(inv)))
    for k, v in (getattr(inv, "resources", {}) or {}).items():
        kv.append((k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)))
    rows = "".join(f'<tr><td style="{_CELL};color:{_MUTED};white-space:nowrap">{_e(k)}</td><td style="{_CELL}">{_e(v)}</td></tr>'
                   for k, v in kv)
    ok = dq["complete"] and not dq["detector_errors"]
    state = ("complete" if ok else "incomplete — read the data quality below before trusting a negative")
    parts = [
        _STYLE,
        f'<div class="ik-investigation" style="{_FONT};max-width:1100px">',
        f'<div style="font-size:15px;font-weight:700;margin:4px 0 4px">Investigation · {_e(_source(inv))}</div>',
        f'<table style="border-collapse:collapse;font-size:13px;margin-bottom:6px">{rows}</table>',
        f'<details{"" if ok else " open"}><summary style="cursor:pointer">Evidence: {_e(_plural(dq["frames"], "frame"))}, '
        f'{dq["rows"]:,} rows, {dq["api_calls"]:,} API calls — {_e(state)}</summary>',
        f'<div style="font-size:12px;color:{_MUTED};margin:4px 0">{_e(inv.bundle.path)}</div>',
        cards.data_quality_html(dq),
        "</details>",
    ]
    issues = list(getattr(inv, "issues", []) or [])
    if issues:
        parts.append('<div style="margin:6px 0"><b>Issues</b><ul style="margin:2px 0">'
                     + "".join(f"<li>{_e(i)}</li>" for i in issues) + "</ul></div>")
    findings = inv.computed_findings
    if findings is None:
        parts.append(f'<div style="color:{_MUTED};margin:6px 0">Findings not run yet: call <code>.findings()</code>.</div>')
    elif not len(findings) and dq.get("inconclusive"):
        parts.append('<div style="margin:6px 0"><b>Inconclusive</b>: the logs could not be read, so no cause is ruled out.</div>')
    elif not len(findings):
        parts.append('<div style="margin:6px 0"><b>No finding</b>: the evidence shows none of the known causes.</div>')
    else:
        # A mention, not a card: the findings' own display (cards with evidence and remediation) follows.
        top = _dicts(findings)[0]
        more = f" and {_plural(len(findings) - 1, 'more')}" if len(findings) > 1 else ""
        parts.append(f'<div class="ik-findings-line" style="margin:8px 0 4px"><b>{_e(_plural(len(findings), "finding"))}</b>'
                     f' — most likely: {_badge(str(top.get("severity", "info")))} <b>{_e(top.get("title", ""))}</b> '
                     f'(<code>{_e(top.get("id", ""))}</code>){_e(more)} <span style="color:{_MUTED}">(evidence and '
                     f'remediation: display <code>.findings()</code>)</span></div>')
    errors = getattr(findings, "errors", None) or {}
    if errors:
        parts.append('<div style="margin:4px 0;color:#b45309"><b>Checks that could not run</b> (their causes are not '
                     "ruled out): " + "; ".join(f"<code>{_e(k)}</code>: {_e(v)}" for k, v in errors.items()) + "</div>")
    parts.append("</div>")
    return "".join(parts)


# How findings, a list of findings and an investigation show themselves (incidentkit/_util/views.py):
# they live below this module in the data flow and ask for these views by name.
views.register("finding_html", finding_html)
views.register("finding_text", finding_text)
views.register("findings_html", findings_html)
views.register("findings_text", findings_text)
views.register("investigation_html", investigation_html)
views.register("investigation_text", investigation_text)
views.register("investigation_repr", investigation_repr)
