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
>>> md = markdown({"window": {"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"},
...                "findings": [], "postmortem": {}})
>>> md.splitlines()[0]
'# Postmortem: incident of 2026-03-01 03:00 UTC'
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .analyses import impact as _impact

__all__ = ["build", "markdown", "impact", "with_layout_names", "timeline", "actions", "blameless_actor", "blameless_text", "PRIORITY"]

#: Action-item priority by the severity of the finding it comes from.
PRIORITY = {"critical": "P1", "high": "P1", "medium": "P2", "low": "P3", "info": "P3"}


def _iso(ts: Any) -> str | None:
    if ts is None or (isinstance(ts, float) and math.isnan(ts)):
        return None
    try:
        t = pd.Timestamp(ts)
    except (ValueError, TypeError):
        return None
    if pd.isna(t):
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat().replace("+00:00", "Z")


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


_ARN_ROLE = re.compile(r"assumed-role/([^/]+)/")
_ARN_USER = re.compile(r":user/")


def blameless_actor(actor: Any) -> str:
    """Who made a change, without naming a person.

    Example
    -------
    >>> blameless_actor("arn:aws:sts::123456789012:assumed-role/deploy-pipeline/build-4711")
    'role deploy-pipeline'
    >>> blameless_actor("arn:aws:iam::123456789012:user/alice")
    'an IAM user'
    >>> blameless_actor("codedeploy.amazonaws.com")
    'codedeploy.amazonaws.com'
    """
    if actor is None or (isinstance(actor, float) and math.isnan(actor)) or actor is pd.NA:
        return "unknown principal"
    text = str(actor)
    m = _ARN_ROLE.search(text)
    if m:
        return f"role {m.group(1)}"
    if _ARN_USER.search(text) or text.startswith("user/") or text.startswith("IAMUser"):
        return "an IAM user"
    if ":root" in text or text == "Root":
        return "the account root user"
    if "amazonaws.com" in text or text.startswith("role ") or text in ("", "unknown"):
        return text or "unknown principal"
    if text.startswith("role/"):
        return "role " + text.split("/", 1)[1]
    # a bare name (a user name, an SSO e-mail): do not repeat it
    if "@" in text or re.fullmatch(r"[A-Za-z][\w.+-]*", text):
        return "a person (name withheld)"
    return text


_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(?:iam|sts)::\d{12}:(?:user|assumed-role|root|federated-user)[^\s,;)'\"]*")


def blameless_text(text: Any) -> str:
    """Free text with every IAM principal ARN replaced by :func:`blameless_actor`'s wording.

    Example
    -------
    >>> blameless_text("change by arn:aws:iam::123456789012:user/alice (03:12 UTC)")
    'change by an IAM user (03:12 UTC)'
    """
    def repl(m: "re.Match[str]") -> str:
        arn = m.group(0)
        core = arn.rstrip(".:")  # the end of a sentence is not part of the ARN
        return blameless_actor(core) + arn[len(core):]

    return _PRINCIPAL_ARN.sub(repl, str(text))


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
            what = " ".join(str(x) for x in (d.get("event_name"), d.get("resource")) if x is not None and x is not pd.NA and str(x) != "<NA>")
            err = d.get("error_code")
            failed = f" — FAILED ({err})" if err is not None and err is not pd.NA and str(err) not in ("", "<NA>", "nan") else ""
            items.append({"time": _iso(d.get("timestamp")), "kind": "change",
                          "text": f"{cls or 'change'}: {what} by {blameless_actor(d.get('actor'))}{failed}"})
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


def actions(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Action items from the findings' remediations, most severe first, without repeats."""
    seen: set[str] = set()
    out = []
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    # most severe first, so a step two findings share keeps the higher priority
    for f in sorted(findings, key=lambda f: order.get(str(f.get("severity")), 5)):
        for step in f.get("remediation") or []:
            key = " ".join(str(step).lower().split())
            if key in seen:
                continue
            seen.add(key)
            out.append({"priority": PRIORITY.get(str(f.get("severity")), "P3"), "action": str(step), "finding": f.get("id")})
    out.sort(key=lambda a: a["priority"])
    return out


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
    :func:`impact`), ``timeline``, ``root_cause``, ``contributing``, ``actions``,
    ``evidence``, ``data_quality``.
    """
    inv = investigation
    items = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in findings]
    top = items[0] if items else None
    onset = (top or {}).get("onset")
    if impact is None:
        impact = _impact.impact(None)
        try:
            if inv._roles.get("logs:incident"):
                impact = inv.impact(latency_slo_ms=latency_slo_ms)
        except Exception as exc:  # impact is best effort; the postmortem still lists the findings
            inv.issues.append(f"postmortem: requests could not be read ({type(exc).__name__}: {exc})")
    imp = with_layout_names(impact)
    inputs_health: dict[str, pd.DataFrame] = {}
    changes = None
    try:
        ins = inv.inputs()
        inputs_health = ins.health or {}
        changes = ins.changes
    except Exception as exc:
        inv.issues.append(f"postmortem: evidence could not be gathered ({type(exc).__name__}: {exc})")
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
        "contributing": [{k: f.get(k) for k in ("id", "title", "severity", "summary")} for f in items[1:]],
        "actions": actions(items),
        "evidence": evidence,
        "data_quality": {
            "complete": bool(dq["complete"].all() and not dq["truncated"].any()) if len(dq) else True,
            "incomplete": [str(x) for x in dq.loc[~dq["complete"] | dq["truncated"], "frame"]] if len(dq) else [],
            "issues": list(inv.issues),
        },
    }


# -- Markdown ---------------------------------------------------------------------------------


def _pct(x: Any) -> str:
    return "—" if x is None else f"{100 * float(x):.1f} %"


def _n(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.1f}"
    return f"{int(x):,}"


def _ms(x: Any) -> str:
    if x is None:
        return "—"
    x = float(x)
    return f"{x / 1000:.2f} s" if x >= 1000 else f"{x:.0f} ms"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _counted_where(imp: Mapping[str, Any]) -> str:
    """Where the requests were counted, for the impact line."""
    if imp.get("tier") == "entry":
        return f" (counted once, at the {str(imp.get('entry_point') or 'access log').replace(' access log', '')} entry point)"
    return " (no entry-point access log in the evidence)" if imp.get("tier") else ""


def _when(window: Mapping[str, Any] | None) -> str:
    if not window or not window.get("start"):
        return "an unknown window"
    t = pd.Timestamp(window["start"])
    return f"{t:%Y-%m-%d %H:%M} UTC"


def markdown(result: Mapping[str, Any], *, links: bool = True) -> str:
    """A postmortem draft in Markdown from published results (see :func:`incidentkit.report.publish`).

    ``result`` holds ``window``, ``baseline``, ``findings`` and ``postmortem`` (the dict
    from :func:`build`); with ``links`` the evidence is linked relative to the run folder.
    """
    pm = dict(result.get("postmortem") or {})
    findings = list(result.get("findings") or [])
    window = result.get("window") or {}
    top = findings[0] if findings else None
    title = pm.get("title") or (top["title"] if top else f"incident of {_when(window)}")
    lines = [f"# Postmortem: {title}" if (pm.get("title") or top) else f"# Postmortem: incident of {_when(window)}", ""]
    lines += [
        "*Blameless draft generated by incidentkit from the evidence of this run: it names systems and "
        "processes, never people. Review it, complete what the evidence cannot know, and edit before sharing.*",
        "",
        "| | |",
        "|---|---|",
        f"| Window (UTC) | {window.get('start', '—')} → {window.get('end', '—')} |",
    ]
    base = result.get("baseline") or {}
    if base:
        lines.append(f"| Baseline (UTC) | {base.get('start')} → {base.get('end')} |")
    if top:
        lines.append(f"| Severity | {str(top['severity']).upper()} |")
        lines.append(f"| Most likely cause | `{top['id']}` — {_cell(top['title'])} |")
    else:
        lines.append("| Most likely cause | none of the known causes shows in the evidence |")
    if result.get("sample"):
        lines.append(f"| Source | bundled sample `{result['sample']}` (offline) |")
    lines.append("| Status | draft |")
    lines.append("")

    lines += ["## Summary", "", pm.get("summary") or (top["summary"] if top else "No finding."), ""]

    imp = pm.get("impact") or {}
    lines += ["## Impact", ""]
    if imp.get("requests"):
        invocations = imp.get("unit") == "invocations"
        why = "timed out or logged an error" if invocations else f"{_n(imp.get('failed_5xx'))} 5xx/timeouts, {_n(imp.get('failed_4xx'))} 4xx"
        lines.append(
            f"- {'Lambda invocations' if invocations else 'Requests'} in the window: **{_n(imp['requests'])}**{_counted_where(imp)}; "
            f"failed: **{_n(imp.get('failed'))}** ({_pct(imp.get('error_rate'))}: {why})"
            + (f"; baseline failure rate {_pct(imp.get('baseline_error_rate'))}" if imp.get("baseline_error_rate") is not None else "")
        )
        if imp.get("excess_failed") is not None:
            lines.append(f"- Failures above the baseline rate: **{_n(imp['excess_failed'])}**")
        if imp.get("slow_requests") is not None:
            lines.append(f"- Slow ({imp.get('slow_rule_text')}): **{_n(imp['slow_requests'])}** ({_pct(imp.get('slow_share'))})")
        if imp.get("clients") is not None:
            lines.append(
                f"- Clients affected (distinct client IPs): **{_n(imp.get('clients_affected'))}** with a failed request"
                + (f", **{_n(imp.get('slow_clients'))}** with a slow one" if imp.get("slow_clients") is not None else "")
                + f", of {_n(imp['clients'])}"
            )
        if imp.get("p99_ms") is not None:
            lines.append(
                f"- Latency: P50 {_ms(imp.get('p50_ms'))}, P99 **{_ms(imp['p99_ms'])}**"
                + (f" (baseline P99 {_ms(imp['baseline_p99_ms'])})" if imp.get("baseline_p99_ms") is not None else "")
            )
    elif imp.get("note"):
        lines.append(f"- {imp['note']}")
    if imp.get("duration_min") is not None:
        lines.append(f"- Duration: **{_n(imp['duration_min'])} min** ({imp.get('duration_basis', '')})")
    elif imp.get("requests"):
        lines.append("- Duration: not measured — no time bin's failed-or-slow share stood out from the reference")
    if pm.get("recovered"):
        lines.append(f"- Recovered: failed and slow requests back at the reference level at {pm['recovered']}")
    elif imp.get("onset"):
        lines.append("- Recovered: not within the investigated window")
    if imp.get("by_version"):
        lines += ["", "By app version:", "", "| version | requests | failed | failure rate | clients affected |", "|---|---:|---:|---:|---:|"]
        for v in imp["by_version"]:
            lines.append(
                f"| {_cell(v['version'])} | {_n(v['requests'])} | {_n(v['failed'])} | {_pct(v.get('error_rate'))} | "
                f"{_n(v.get('clients_affected'))} |"
            )
    lines.append("")

    lines += ["## Timeline (UTC)", ""]
    tl = pm.get("timeline") or []
    if tl:
        lines += ["| time | what |", "|---|---|"]
        for item in tl:
            text = _cell(item["text"])
            if item["kind"] in ("onset", "detection", "mitigation"):
                text = f"**{text}**"
            lines.append(f"| {item['time']} | {text} |")
    else:
        lines.append("No change, onset or alarm in the evidence.")
    if not pm.get("detected"):
        lines += ["", "*Detection: no alarm transition in the evidence; add when and how the incident was detected.*"]
    lines.append("")

    lines += ["## Root cause", ""]
    rc = pm.get("root_cause") or top
    if rc:
        lines.append(f"**{rc['title']}** (`{rc['id']}`, {str(rc.get('severity', '')).upper()})")
        lines += ["", rc.get("summary") or "", ""]
        ev = rc.get("evidence") or {}
        if ev:
            lines += ["| evidence | value |", "|---|---:|"]
            from .report import _fmt

            for k, v in ev.items():
                lines.append(f"| {_cell(k)} | {_cell(_fmt(v, k))} |")
        if links and rc.get("id"):
            lines += ["", f"See [the finding in the report](report.html#finding-{rc['id']})."]
    else:
        lines.append("The evidence shows none of the known causes. Check the data-quality section before ruling them out.")
    lines.append("")

    contributing = pm.get("contributing")
    if contributing is None:
        contributing = findings[1:]
    lines += ["## Contributing factors", ""]
    if contributing:
        for f in contributing:
            lines.append(f"- **{f['title']}** (`{f['id']}`, {str(f.get('severity', '')).upper()}): {f.get('summary', '')}")
    else:
        lines.append("None found in the evidence.")
    lines.append("")

    acts = pm.get("actions")
    if acts is None:
        acts = actions(findings)
    lines += ["## Action items", ""]
    if acts:
        lines += ["| priority | action | from finding | owner |", "|---|---|---|---|"]
        for a in acts:
            lines.append(f"| {a['priority']} | {_cell(a['action'])} | `{a['finding']}` | _to assign_ |")
    else:
        lines.append("No remediation follows from the evidence; add the team's own actions.")
    lines.append("")

    lines += ["## Evidence", ""]
    ev_items = pm.get("evidence") or []
    if links:
        lines.append("- The investigation: [report.html](report.html) (executed notebook: [report.ipynb](report.ipynb)); "
                     "machine-readable findings: [findings.json](findings.json)")
    if ev_items:
        lines += ["", "| frame | source | rows | complete | sha256 |", "|---|---|---:|---|---|"]
        for e in ev_items:
            name = f"[{e['frame']}]({e['file']})" if links else e["frame"]
            lines.append(f"| {name} | {_cell(e.get('source') or e.get('kind') or '')} | {_n(e.get('rows'))} | "
                         f"{'yes' if e.get('complete') else '**no**'} | `{e.get('sha256', '')}` |")
        lines += ["", "Replay offline, with no AWS access: `incidentkit run <template> --offline --evidence <this run folder>`."]
    dq = pm.get("data_quality") or (result.get("data_quality") or {})
    if dq and (not dq.get("complete", True) or dq.get("issues")):
        lines += ["", "**Data quality:** " + ("incomplete evidence — " if not dq.get("complete", True) else "")
                  + "; ".join(str(i) for i in (dq.get("issues") or [])[:10])]
    lines.append("")
    return blameless_text("\n".join(lines))
