"""The postmortem document: a blameless draft in Markdown from an investigation's published results.

:func:`markdown` lays out the facts :func:`incidentkit.render.postmortem.build` computed (and the
findings) as the postmortem an on-call engineer posts; :func:`actions` turns the findings'
remediations into action items.

Example
-------
>>> md = markdown({"window": {"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"},
...                "findings": [], "postmortem": {}})
>>> md.splitlines()[0]
'# Postmortem: incident of 2026-03-01 03:00 UTC'
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import pandas as pd

from .._util.blameless import blameless_actor, blameless_text
from ..fetch.changes import normalize_event_name
from ..errors import summarize
from .._util.fmt import clock as _clock
from .._util.fmt import iso as _iso
from .._util.fmt import ms as _ms
from .._util.fmt import percent as _pct
from .._util.fmt import source_text
from .._util.fmt import value as _fmt_value
from .._util.severity import SEVERITIES, severity_rank
from .markup import md_code, md_prose, md_text

__all__ = ["markdown", "five_whys", "actions", "PRIORITY", "FILL"]

#: Action-item priority by the severity of the finding it comes from.
PRIORITY = {"critical": "P1", "high": "P1", "medium": "P2", "low": "P3", "info": "P3"}


def _rank(severity: Any) -> int:
    """The severity's rank; an unknown severity sorts after ``info``."""
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)


def actions(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Action items from the findings' remediations, most severe first, without repeats."""
    seen: set[str] = set()
    out = []
    # most severe first, so a step two findings share keeps the higher priority
    for f in sorted(findings, key=lambda f: _rank(f.get("severity"))):
        for step in f.get("remediation") or []:
            key = " ".join(str(step).lower().split())
            if key in seen:
                continue
            seen.add(key)
            out.append({"priority": PRIORITY.get(str(f.get("severity")), "P3"), "action": str(step), "finding": f.get("id")})
    out.sort(key=lambda a: a["priority"])
    return out


# -- Markdown ---------------------------------------------------------------------------------
#
# Every string that comes from the data (titles and summaries quoting log values, versions,
# resources, actors, frame names, data-quality issues) goes through markup.md_text /
# md_code / md_prose: the postmortem is Markdown, and the report renders it as HTML.

#: Marks the parts only people can write (the evidence cannot know them).
FILL = "✍"
#: Evidence values the root cause shows (the detector's first, key numbers); the card has all.
KEY_EVIDENCE = 8


def _n(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.1f}"
    return f"{int(x):,}"


def _span(seconds: Any) -> str:
    """A duration for a reader: ``45 s``, ``72 min``, ``5 h 30 min``."""
    if seconds is None:
        return "—"
    s = max(0, int(round(float(seconds))))
    if s < 120:
        return f"{s} s"
    minutes = s // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _when(window: Mapping[str, Any] | None) -> str:
    if not window or not window.get("start"):
        return "an unknown window"
    return f"{pd.Timestamp(window['start']):%Y-%m-%d %H:%M} UTC"


def _blameless(text: Any) -> str:
    return blameless_text("" if text is None else text)


def _prose(text: Any) -> str:
    """A finding's wording, blameless, as safe Markdown (code spans kept)."""
    return md_prose(_blameless(text))


def _sentences(text: str) -> list[str]:
    """Sentences of a finding summary (split at '. ' before a capital or a digit)."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9`'\"(])", text or "") if s.strip()]


def _confidence(conf: Any) -> str:
    return f", confidence {float(conf):.0%}".replace("%", " %") if isinstance(conf, (int, float)) else ""


def _has_number(text: str) -> bool:
    return bool(re.search(r"\d", text))


def _impact_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The impact in design.md's keys: the published top-level ``impact``, else the postmortem's own.

    The postmortem's older keys (``failed``, ``error_rate``, ``clients_affected``,
    ``duration_min``) are read under the design names when the top-level dict is absent.
    """
    pm = result.get("postmortem") or {}
    legacy = dict(pm.get("impact") or {})
    top = result.get("impact")
    imp = dict(top) if isinstance(top, Mapping) and top else {}
    aliases = {"failed_requests": "failed", "failed_share": "error_rate", "failed_clients": "clients_affected"}
    for new, old in aliases.items():
        imp.setdefault(new, legacy.get(old))
    for key in ("requests", "clients", "onset", "p50_ms", "p99_ms", "baseline_p99_ms", "baseline_error_rate",
                "failed_5xx", "failed_4xx", "by_version", "by_version_other", "note", "excess_failed"):
        imp.setdefault(key, legacy.get(key))
    if imp.get("duration_s") is None and legacy.get("duration_min") is not None:
        imp["duration_s"] = float(legacy["duration_min"]) * 60
        imp.setdefault("duration_basis", legacy.get("duration_basis"))
    if imp.get("recovered") is None and pm.get("recovered"):
        imp["recovered"] = pm["recovered"]
    return imp


def _peak_time(peak: Any) -> Any:
    if isinstance(peak, Mapping):
        return peak.get("time") or peak.get("timestamp")
    return peak


def _slow_rule(imp: Mapping[str, Any]) -> str:
    """What "slow" meant: the impact's own words (``latency above the baseline's P99, 242 ms`` or ``82.6 s``)."""
    text = imp.get("slow_rule_text")
    if text:
        return md_text(text)
    rule = imp.get("slow_rule")
    if isinstance(rule, Mapping):
        text = rule.get("text") or rule.get("description")
        if text:
            return md_text(text)
        return ", ".join(f"{md_text(k)} {md_text(_fmt_value(v, str(k)))}" for k, v in rule.items())
    return md_text(rule) if rule else "the slow threshold"


def _entry(imp: Mapping[str, Any]) -> str:
    """Where the requests were counted: `` at the API Gateway entry point``, or what stood in for one."""
    ep = str(imp.get("entry_point") or "")
    if not ep:
        return ""
    if imp.get("tier", "entry") == "entry":
        return f" at the {md_text(ep.removesuffix(' access log'))} entry point"
    return f" (counted as {md_text(ep)}: no entry-point access log in the evidence)"


def _noun(imp: Mapping[str, Any]) -> str:
    return "invocations" if imp.get("unit") == "invocations" else "requests"


def _failed_of(imp: Mapping[str, Any]) -> str:
    """``436 of 1,511 requests at the API Gateway entry point failed (28.9%)``."""
    return (f"{_n(imp.get('failed_requests'))} of {_n(imp['requests'])} {_noun(imp)}{_entry(imp)} failed "
            f"({_pct(imp.get('failed_share'))})")


def _trigger(top: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The change that started it: the last related change before the onset, else the first listed."""
    changes = [c for c in (top or {}).get("related_changes") or [] if isinstance(c, Mapping)]
    if not changes:
        return None
    onset = pd.Timestamp(top["onset"]) if top and top.get("onset") else None
    if onset is not None:
        onset = onset.tz_localize("UTC") if onset.tzinfo is None else onset
        before = [c for c in changes if c.get("timestamp") and pd.Timestamp(c["timestamp"]) <= onset]
        if before:
            return max(before, key=lambda c: pd.Timestamp(c["timestamp"]))
    return changes[0]


def _change_text(change: Mapping[str, Any], onset: Any = None, *, with_time: bool = True) -> str:
    """``UpdateFunctionCode on `shop-jwt-authorizer` at 2026-03-10 02:47:12 UTC by role deploy (2 s before the onset)``."""
    name = normalize_event_name(change.get("event_name")) or "a change"
    parts = [md_code(name)]
    if change.get("resource"):
        parts.append(f"on {md_code(change['resource'])}")
    if with_time and change.get("timestamp"):
        parts.append(f"at {_clock(change['timestamp'])}")
    if change.get("actor"):
        parts.append(f"by {md_text(blameless_actor(change['actor']))}")
    text = " ".join(parts)
    if change.get("error_code"):
        text += f" (it failed: {md_code(change['error_code'])})"
    if onset is not None and change.get("timestamp"):
        lead = (pd.Timestamp(onset) - pd.Timestamp(change["timestamp"])).total_seconds()
        text += f", {_span(abs(lead))} {'before' if lead >= 0 else 'after'} the onset"
    return text


def _header(result: Mapping[str, Any], top: Mapping[str, Any] | None) -> list[str]:
    pm = result.get("postmortem") or {}
    window = result.get("window") or {}
    title = pm.get("title") or (top["title"] if top else f"incident of {_when(window)}")
    source = str(result.get("source") or (f"sample:{result['sample']}" if result.get("sample") else "aws"))
    said = source_text(source, code=md_code)
    lines = [f"# Postmortem: {_prose(title)}" + (f" — {said}" if said else ""), ""]
    lines += [
        f"> **Blameless draft** generated by incidentkit from the evidence of this run: it names systems and "
        f"processes, never people. Everything not marked {FILL} is computed from the evidence and links back to it; "
        f"the parts marked {FILL} are for the people who handled the incident to write. Review before sharing.",
        "",
        "| | |",
        "|:---|:---|",
        f"| Incident window (UTC) | {md_text(window.get('start', '—'))} → {md_text(window.get('end', '—'))} |",
    ]
    base = result.get("baseline") or {}
    if base:
        lines.append(f"| Baseline (UTC) | {md_text(base.get('start'))} → {md_text(base.get('end'))} |")
    if top:
        lines.append(f"| Severity | {md_text(str(top.get('severity', '')).upper())} |")
        lines.append(f"| Most likely cause | {md_code(top.get('id'))} — {_prose(top.get('title'))}{_confidence(top.get('confidence'))} |")
    elif (result.get("data_quality") or {}).get("inconclusive"):
        lines.append("| Most likely cause | inconclusive: the logs could not be read |")
    else:
        lines.append("| Most likely cause | none of the known causes shows in the evidence |")
    if result.get("sample"):
        lines.append(f"| Source | bundled sample {md_code(result['sample'])} (offline) |")
    lines.append("| Status | draft, to review |")
    lines += [f"| Owner {FILL} | _who drives the review_ |", f"| Review meeting {FILL} | _date_ |", ""]
    return lines


def _summary(result: Mapping[str, Any], top: Mapping[str, Any] | None, imp: Mapping[str, Any]) -> list[str]:
    """One paragraph: what users saw, for how long, the cause and the change that started it."""
    parts = []
    if imp.get("requests"):
        text = _failed_of(imp)
        if imp.get("slow_requests") is not None:
            text += f" and {_n(imp['slow_requests'])} were slow"
        onset = (top or {}).get("onset") or imp.get("onset")  # the finding's onset is to the second; the impact's a bin
        if onset:
            text += f" from {_clock(onset)}"
        if imp.get("duration_s") is not None:
            text += f", for {_span(imp['duration_s'])}"
            if imp.get("onset") and onset != imp["onset"]:  # the duration runs from the impact's bin, not the finding's second
                text += f" counted from its {_span(imp['bin_s'])} bin at" if imp.get("bin_s") else " counted from"
                text += f" {_clock(imp['onset'])}"
            text += "" if imp.get("recovered") else " (not recovered when the investigated window ends)"
        parts.append(text + _p99_rise(imp) + ".")
    if top:
        parts.append(f"Most likely cause: {_prose(top.get('title'))} ({md_code(top.get('id'))}).")
        trig = _trigger(top)
        if trig is not None:
            parts.append(f"It follows {_change_text(trig, top.get('onset'))}.")
    elif (result.get("data_quality") or {}).get("inconclusive"):
        parts.append("Inconclusive: the logs could not be read, so no cause can be named or ruled out; see the data quality.")
    else:
        parts.append("The evidence shows none of the known causes; see the impact and the timeline.")
    return ["## Summary", "", " ".join(parts), ""]


def _impact_section(imp: Mapping[str, Any]) -> list[str]:
    lines = ["## Impact", ""]
    if not imp.get("requests"):
        lines.append(f"- {md_text(imp.get('note') or 'No request-level logs in the evidence: impact in requests is unknown.')}")
    else:
        lines += ["| | |", "|:---|:---|", f"| {_noun(imp).capitalize()} | **{_n(imp['requests'])}**{_entry(imp)} |"]
        split = ""
        if imp.get("failed_5xx") is not None and imp.get("failed_4xx") is not None:
            split = f": {_n(imp['failed_5xx'])} 5xx or timeouts, {_n(imp['failed_4xx'])} 4xx"
        lines.append(f"| Failed | **{_n(imp.get('failed_requests'))}** ({_pct(imp.get('failed_share'))}{split}) |")
        if imp.get("slow_requests") is not None:
            lines.append(f"| Slow | **{_n(imp['slow_requests'])}** ({_slow_rule(imp)}) |")
        if imp.get("clients") is not None:
            slow = f"; {_n(imp['slow_clients'])} had a slow one" if imp.get("slow_clients") is not None else ""
            lines.append(f"| Clients (distinct client IPs) | **{_n(imp.get('failed_clients'))}** of {_n(imp['clients'])} had "
                         f"a failed request{slow} |")
        if imp.get("p99_ms") is not None:
            base = f" (baseline P99 {_ms(imp['baseline_p99_ms'])})" if imp.get("baseline_p99_ms") is not None else ""
            lines.append(f"| Latency | P50 {_ms(imp.get('p50_ms'))}, P99 **{_ms(imp['p99_ms'])}**{base} |")
        if imp.get("baseline_error_rate") is not None:
            lines.append(f"| Baseline failure rate | {_pct(imp['baseline_error_rate'])} |")
    lines += _impact_times(imp)
    if imp.get("by_version"):
        lines += ["", "By app version:", "", "| version | requests | failed | failure rate | clients with a failure |",
                  "|:---|---:|---:|---:|---:|"]
        for v in imp["by_version"]:
            lines.append(f"| {md_code(v.get('version'))} | {_n(v.get('requests'))} | {_n(v.get('failed'))} | "
                         f"{_pct(v.get('failed_share', v.get('error_rate')))} | "
                         f"{_n(v.get('failed_clients', v.get('clients_affected')))} |")
    lines += ["", f"{FILL} *Not in the evidence — add what applies: users or accounts affected beyond client IPs, "
                  "support tickets, SLO error budget spent, revenue.*", ""]
    return lines


def _onset_bin(imp: Mapping[str, Any]) -> str:
    """``2026-03-10 02:46:00 UTC (the first 2-min bin whose failed-or-slow share stood out)``: the
    impact's onset is a bin start, and says so."""
    text = _clock(imp["onset"])
    if imp.get("bin_s"):
        text += f" (the first {_span(imp['bin_s'])} bin whose failed-or-slow share stood out)"
    return text


def _impact_times(imp: Mapping[str, Any]) -> list[str]:
    """Onset, peak, recovery and duration rows (under the impact table)."""
    rows = []
    if imp.get("onset"):
        rows.append(f"| Onset | {_onset_bin(imp)} |")
    peak = _peak_time(imp.get("peak"))
    if peak:
        rows.append(f"| Peak | {_clock(peak)} |")
    if imp.get("requests") or imp.get("onset"):
        rec = _clock(imp["recovered"]) if imp.get("recovered") else "not inside the investigated window"
        rows.append(f"| Recovered | {rec} |")
    if imp.get("duration_s") is not None:
        basis = f" ({md_text(imp['duration_basis'])})" if imp.get("duration_basis") else ""
        rows.append(f"| Duration | **{_span(imp['duration_s'])}**{basis} |")
    if rows and not imp.get("requests"):
        rows = ["| | |", "|:---|:---|", *rows]
    return rows


_KIND_LABEL = {"change": "change", "onset": "**onset**", "detection": "**detected**", "peak": "**peak**",
               "mitigation": "**recovered**", "window": "window"}


def _timeline_section(result: Mapping[str, Any], imp: Mapping[str, Any]) -> list[str]:
    pm = result.get("postmortem") or {}
    items = [dict(i) for i in pm.get("timeline") or [] if i.get("time")]
    kinds = {i.get("kind") for i in items}
    peak = _peak_time(imp.get("peak"))
    if peak and "peak" not in kinds:
        items.append({"time": _iso(peak), "kind": "peak", "text": "the failure rate is at its highest"})
    if imp.get("recovered") and "mitigation" not in kinds:
        items.append({"time": _iso(imp["recovered"]), "kind": "mitigation", "text": "back at the baseline level"})
    order = {"change": 0, "onset": 1, "detection": 2, "peak": 3, "mitigation": 4, "window": 5}
    items = [i for i in items if i["time"]]
    items.sort(key=lambda i: (str(i["time"]), order.get(str(i.get("kind")), 9)))
    lines = ["## Timeline (UTC)", ""]
    if items:
        lines += ["| time | | what |", "|:---|:---|:---|"]
        for item in items:
            label = _KIND_LABEL.get(str(item.get("kind")), md_text(item.get("kind")))
            lines.append(f"| {md_text(_clock(item['time']).replace(' UTC', ''))} | {label} | {_timeline_text(item)} |")
    else:
        lines.append("No change, onset or alarm in the evidence.")
    lines.append("")
    if not pm.get("detected"):
        lines += [f"{FILL} *Detection: no alarm went to ALARM in the evidence — add when and how the incident was "
                  "detected (page, customer report, dashboard).*", ""]
    lines += [f"{FILL} *Add the response: when someone was paged, status-page updates, each mitigation step.*", ""]
    return lines


def _timeline_text(item: Mapping[str, Any]) -> str:
    change = item.get("change")
    if isinstance(change, Mapping):
        cls = str(change.get("class") or "change").replace("_", " ").lower()
        return f"{md_text(cls)}: {_change_text(change, with_time=False)}"
    return _prose(item.get("text"))


def _cause_section(result: Mapping[str, Any], top: Mapping[str, Any] | None, links: bool, in_report: bool) -> list[str]:
    lines = ["## Trigger and root cause", ""]
    if not top:
        return lines + ["No known cause shows in the evidence. Check the data quality below before ruling them out.", ""]
    trig = _trigger(top)
    if trig is not None:
        lines += [f"**Trigger:** {_change_text(trig, top.get('onset'))}.", ""]
    else:
        lines += [f"**Trigger:** no change in the evidence explains the onset. {FILL} *Name it if known (a traffic "
                  "surge, a dependency, a scheduled job).*", ""]
    lines += [f"**Root cause:** {_prose(top.get('title'))} ({md_code(top.get('id'))}, "
              f"{md_text(str(top.get('severity', '')).upper())}{_confidence(top.get('confidence'))})", ""]
    if in_report:  # the report shows the finding's full card already: one card per finding, not a copy here
        return lines + [f"Its summary, evidence and remediation: [the finding's card](#finding-{md_text(top.get('id'))}) "
                        "in this report.", ""]
    lines += [_prose(top.get("summary")), ""]
    ev = list((top.get("evidence") or {}).items())
    if ev:
        lines += ["| key evidence | value |", "|:---|---:|"]
        lines += [f"| {md_code(k)} | {md_text(_fmt_value(v, str(k)))} |" for k, v in ev[:KEY_EVIDENCE]]
        more = f"all {len(ev)} evidence values" if len(ev) > KEY_EVIDENCE else "the evidence"
        where = f"[the finding in the report](report.html#finding-{md_text(top.get('id'))}) and " if links else ""
        lines += ["", f"{more.capitalize()}: {where}`findings.json`."]
    lines.append("")
    return lines


def _contributing_section(result: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]) -> list[str]:
    pm = result.get("postmortem") or {}
    top = findings[0] if findings else None
    others = pm.get("contributing")
    if others is None:
        others = findings[1:]
    lines = ["## Contributing factors", ""]
    for f in others:
        lines.append(f"- {_prose(f.get('title'))} ({md_code(f.get('id'))}, {md_text(str(f.get('severity', '')).upper())}): "
                     f"{_prose(f.get('summary'))}")
    trig = _trigger(top)
    for c in (top or {}).get("related_changes") or []:
        if isinstance(c, Mapping) and c is not trig:
            lines.append(f"- A related change: {_change_text(c, top.get('onset'))}.")
    if len(lines) == 2:
        lines.append("None found in the evidence.")
    lines += ["", f"{FILL} *Add what the evidence cannot show: missing safeguards, review or rollout gaps, "
                  "runbooks that did not help.*", ""]
    return lines


def _what_users_saw(imp: Mapping[str, Any]) -> str:
    """``451 of 3,759 requests at the … entry point failed (12%); 40 were slower than …`` (and the P99)."""
    text = _failed_of(imp)
    if imp.get("slow_requests") is not None:
        text += f"; {_n(imp['slow_requests'])} were slow ({_slow_rule(imp)})"
    return text + _p99_rise(imp) + "."


def _p99_rise(imp: Mapping[str, Any]) -> str:
    """``; the P99 was 7.83 s against 403 ms in the baseline`` when no slow count is known and the P99 rose."""
    p99, base = imp.get("p99_ms"), imp.get("baseline_p99_ms")
    if imp.get("slow_requests") is not None or p99 is None or base is None or float(p99) <= float(base):
        return ""
    return f"; the P99 was {_ms(p99)} against {_ms(base)} in the baseline"


def five_whys(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """Five whys built from the evidence chain: impact, finding, its numbers, the change, detection.

    Each step is ``{"why", "because", "backing"}`` (Markdown); ``backing`` says which number
    or change supports it. A step the evidence cannot answer is left for people (``✍``).

    Example
    -------
    >>> steps = five_whys({"findings": [], "postmortem": {}})
    >>> len(steps), steps[0]["backing"]
    (5, '✍')
    """
    findings = list(result.get("findings") or [])
    top = findings[0] if findings else None
    imp = _impact_of(result)
    pm = result.get("postmortem") or {}
    steps: list[dict[str, str]] = []
    if imp.get("requests"):
        steps.append({"why": "Why did users notice?", "because": _what_users_saw(imp), "backing": "impact"})
    if top:
        steps.append({"why": "Why?", "because": _prose(top.get("title")) + ".",
                      "backing": f"finding {md_code(top.get('id'))}"})
        for sentence in [s for s in _sentences(_blameless(top.get("summary") or "")) if _has_number(s)][:2]:
            steps.append({"why": "Why?", "because": md_prose(sentence), "backing": "evidence of the finding"})
            if len(steps) >= 3 + (_trigger(top) is None):
                break
        trig = _trigger(top)
        if trig is not None:
            steps.append({"why": "Why then?", "because": _change_text(trig, top.get("onset")) + ".",
                          "backing": "change timeline"})
    steps = steps[:4]
    detected = pm.get("detected")
    if detected and imp.get("onset"):
        lag = (pd.Timestamp(detected) - pd.Timestamp(imp["onset"])).total_seconds()
        steps.append({"why": "Why did it reach users before it was caught?",
                      "because": f"the first alarm went to ALARM at {_clock(detected)}, {_span(abs(lag))} "
                                 f"{'after' if lag >= 0 else 'before'} the onset; {FILL} what would have caught it earlier?",
                      "backing": "alarm history"})
    else:
        steps.append({"why": "Why did it reach users before it was caught?",
                      "because": f"no alarm went to ALARM in the evidence; {FILL} which safeguard (alarm, canary, review) "
                                 "would have caught it?", "backing": "alarm history" if pm else FILL})
    while len(steps) < 5:
        steps.insert(len(steps) - 1, {"why": "Why?", "because": f"{FILL} _the evidence does not go further_", "backing": FILL})
    return steps[:5]


def _whys_section(result: Mapping[str, Any]) -> list[str]:
    lines = ["## Five whys", "", "From what users saw down to the change, each step backed by a number or a change "
             f"from the evidence ({FILL}: for the team).", ""]
    for i, step in enumerate(five_whys(result), 1):
        lines.append(f"{i}. **{step['why']}** {step['because']} _({step['backing']})_")
    return lines + [""]


def _resolution_section(imp: Mapping[str, Any]) -> list[str]:
    rec = (f"The failure rate is back at its baseline level at {_clock(imp['recovered'])}" if imp.get("recovered")
           else "The evidence shows no recovery inside the investigated window")
    return ["## Resolution", "", f"{rec}.", "",
            f"{FILL} *What ended the impact (rollback, configuration restored, capacity added), and is it temporary?*", ""]


def _actions_section(result: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]) -> list[str]:
    acts = (result.get("postmortem") or {}).get("actions")
    if acts is None:
        acts = actions(findings)
    lines = ["## Action items", ""]
    if acts:
        lines += [f"| priority | action | from finding | owner {FILL} | ticket {FILL} |", "|:---|:---|:---|:---|:---|"]
        for a in acts:
            lines.append(f"| {md_text(a.get('priority'))} | {_prose(a.get('action'))} | {md_code(a.get('finding'))} | | |")
    else:
        lines.append("No remediation follows from the evidence.")
    lines += ["", f"{FILL} *Add the team's own actions: detection (alarms, dashboards), process (reviews, rollout), "
                  "preparedness (runbooks).*", ""]
    return lines


def _lessons_section() -> list[str]:
    prompts = (("What went well", "what limited the impact or sped up the response"),
               ("What went badly", "what slowed detection, diagnosis or recovery"),
               ("Where we got lucky", "what could have made it worse but did not"))
    lines = [f"## Lessons learned {FILL}", "", "*For the people who handled the incident: the evidence cannot know "
             "these.*", ""]
    for heading, prompt in prompts:
        lines += [f"### {heading} {FILL}", "", f"- _{prompt}_", ""]
    return lines


def _evidence_section(result: Mapping[str, Any], links: bool) -> list[str]:
    pm = result.get("postmortem") or {}
    lines = ["## Evidence", ""]
    if links:
        lines.append("- The investigation: [report.html](report.html) (executed notebook: [report.ipynb](report.ipynb)); "
                     "machine-readable findings: [findings.json](findings.json)")
    ev_items = pm.get("evidence") or []
    if ev_items:
        lines += ["", "| frame | source | rows | complete | sha256 |", "|:---|:---|---:|:---|:---|"]
        for e in ev_items:
            name = md_code(e.get("frame"))
            if links and _SAFE_FILE.fullmatch(str(e.get("file") or "")):
                name = f"[{md_text(e.get('frame'))}]({e['file']})"
            lines.append(f"| {name} | {md_text(e.get('source') or e.get('kind') or '')} | {_n(e.get('rows'))} | "
                         f"{'yes' if e.get('complete') else '**no**'} | {md_code(e.get('sha256', ''))} |")
        lines += ["", "Replay offline, with no AWS access: `incidentkit run <template> --offline --evidence <this run folder>`."]
    dq = pm.get("data_quality") or (result.get("data_quality") or {})
    if dq and (not dq.get("complete", True) or dq.get("issues")):
        issues = "; ".join(md_text(summarize(i, 300)) for i in (dq.get("issues") or [])[:10])
        lines += ["", "**Data quality:** " + ("incomplete evidence — " if not dq.get("complete", True) else "") + issues]
    return lines + [""]


#: A link target the postmortem writes: a plain relative path inside the run folder.
_SAFE_FILE = re.compile(r"evidence/[A-Za-z0-9._-]+")


def markdown(result: Mapping[str, Any], *, links: bool = True, in_report: bool = False) -> str:
    """A postmortem draft in Markdown from published results (see :func:`incidentkit.render.results.publish_results`).

    Sections: header, summary, impact, timeline, trigger and root cause, contributing
    factors, five whys, resolution, action items, lessons learned, evidence. The parts
    only people can write are marked ``✍``. Every string from the data is escaped
    (:mod:`incidentkit.render.markup`), and people are never named (:func:`blameless_text`).

    Parameters
    ----------
    result:
        ``window``, ``baseline``, ``findings``, ``postmortem`` (the dict from :func:`build`)
        and, when published, the top-level ``impact`` of ``findings.json``.
    links:
        Link the evidence relative to the run folder.
    in_report:
        Shown inside a report that displays the findings' cards: the root cause links to its
        card instead of repeating its summary and evidence (``postmortem.md`` has them).
    """
    findings = [f for f in result.get("findings") or [] if isinstance(f, Mapping)]
    top = findings[0] if findings else None
    imp = _impact_of(result)
    lines = _header(result, top) + _summary(result, top, imp) + _impact_section(imp)
    lines += _timeline_section(result, imp) + _cause_section(result, top, links, in_report)
    lines += _contributing_section(result, findings) + _whys_section(result) + _resolution_section(imp)
    lines += _actions_section(result, findings) + _lessons_section() + _evidence_section(result, links)
    return blameless_text("\n".join(lines))
