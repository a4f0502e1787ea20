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

from .change_words import blameless_actor, utc_time

__all__ = ["build", "markdown", "impact", "timeline", "actions", "trigger", "contributing", "blameless_actor", "blameless_text",
           "PRIORITY"]

#: Action-item priority by the severity of the finding it comes from.
PRIORITY = {"critical": "P1", "high": "P1", "medium": "P2", "low": "P3", "info": "P3"}


def _iso(ts: Any) -> str | None:
    t = utc_time(ts)
    return None if t is None else t.isoformat().replace("+00:00", "Z")


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


def _status(df: pd.DataFrame) -> pd.Series:
    """HTTP status as float64 (NaN where unknown)."""
    if "status" not in df:
        return pd.Series(float("nan"), index=df.index)
    return pd.to_numeric(df["status"], errors="coerce").astype("float64")


def _flag(df: pd.DataFrame, col: str) -> pd.Series:
    """A nullable boolean column as plain bool (missing = False)."""
    if col not in df:
        return pd.Series(False, index=df.index)
    return df[col].astype("boolean").fillna(False).astype(bool)


def impact(requests: pd.DataFrame | None, baseline_requests: pd.DataFrame | None = None, *,
           window: Any = None, onset: Any = None) -> dict[str, Any]:
    """Who and how much: requests, failures, clients affected, by version, and duration.

    A request failed when its status is 5xx or 4xx, or it timed out; 4xx are counted
    separately because some are normal (a 404 is not an outage). ``clients`` are distinct
    client IPs (a proxy for users when the logs carry no user id).
    """
    out: dict[str, Any] = {"requests": 0}
    if requests is None or len(requests) == 0:
        out["note"] = "no request-level logs in the evidence: impact in requests is unknown"
        return out
    r = requests
    status = _status(r)
    timed_out = _flag(r, "timed_out")
    five = ((status >= 500) | (status.isna() & timed_out)).to_numpy(dtype=bool)
    four = ((status >= 400) & (status < 500)).to_numpy(dtype=bool)
    five, four = pd.Series(five, index=r.index), pd.Series(four, index=r.index)
    failed = five | four
    out.update(
        requests=int(len(r)),
        failed=int(failed.sum()),
        failed_5xx=int(five.sum()),
        failed_4xx=int(four.sum()),
        timed_out=int(timed_out.sum()),
        error_rate=_num(failed.mean()),
        error_rate_5xx=_num(five.mean()),
    )
    if baseline_requests is not None and len(baseline_requests):
        b = baseline_requests
        bs = _status(b)
        bt = _flag(b, "timed_out")
        bfail = pd.Series(((bs >= 400) | (bs.isna() & bt)).to_numpy(dtype=bool), index=b.index)
        out["baseline_requests"] = int(len(b))
        out["baseline_error_rate"] = _num(bfail.mean())
        excess = out["failed"] - (out["baseline_error_rate"] or 0) * out["requests"]
        out["excess_failed"] = int(max(0, round(excess)))
    if "client_ip" in r and r["client_ip"].notna().any():
        ips = r["client_ip"].astype("string")
        out["clients"] = int(ips.nunique(dropna=True))
        out["clients_affected"] = int(ips[failed].nunique(dropna=True))
    if "latency_ms" in r and pd.to_numeric(r["latency_ms"], errors="coerce").notna().any():
        lat = pd.to_numeric(r["latency_ms"], errors="coerce").dropna()
        out["p50_ms"] = _num(lat.quantile(0.5))
        out["p99_ms"] = _num(lat.quantile(0.99))
        if baseline_requests is not None and "latency_ms" in baseline_requests:
            bl = pd.to_numeric(baseline_requests["latency_ms"], errors="coerce").dropna()
            if len(bl):
                out["baseline_p99_ms"] = _num(bl.quantile(0.99))
    if "app_version" in r and r["app_version"].notna().any():
        v = r["app_version"].astype("string").fillna("(unknown)")
        g = pd.DataFrame({"version": v, "failed": failed.astype(int)})
        if "client_ip" in r:
            g["client"] = r["client_ip"].astype("string")
        rows = []
        for ver, part in g.groupby("version", sort=False):
            row = {"version": str(ver), "requests": int(len(part)), "failed": int(part["failed"].sum()),
                   "error_rate": _num(part["failed"].mean())}
            if "client" in part:
                row["clients_affected"] = int(part.loc[part["failed"] == 1, "client"].nunique(dropna=True))
            rows.append(row)
        rows.sort(key=lambda x: (-x["failed"], -x["requests"]))
        out["by_version"] = rows[:8]
        if len(rows) > 8:
            out["by_version_other"] = {"versions": len(rows) - 8, "requests": sum(x["requests"] for x in rows[8:]),
                                       "failed": sum(x["failed"] for x in rows[8:])}
    win_start = getattr(window, "start", None)
    win_end = getattr(window, "end", None)
    start = pd.Timestamp(onset) if onset is not None else None
    if start is not None and start.tzinfo is None:
        start = start.tz_localize("UTC")
    if start is None and failed.any() and "timestamp" in r:
        start = None  # without an onset, the duration is the window's: said so below
    if start is not None and win_end is not None:
        out["onset"] = _iso(start)
        out["duration_min"] = _num((win_end - start).total_seconds() / 60)
        out["duration_basis"] = "from the onset to the end of the investigated window"
    elif win_start is not None and win_end is not None:
        out["duration_min"] = _num((win_end - win_start).total_seconds() / 60)
        out["duration_basis"] = "the whole investigated window: no onset was found"
    return out


def _recovery(requests: pd.DataFrame | None, baseline_rate: float | None, onset: Any, window: Any) -> str | None:
    """When the failure rate fell back to the baseline level after the onset, if it did."""
    if requests is None or len(requests) == 0 or onset is None or "timestamp" not in requests or "status" not in requests:
        return None
    status = _status(requests)
    failed = (status >= 400).astype(float)
    s = pd.Series(failed.to_numpy(), index=pd.DatetimeIndex(requests["timestamp"])).sort_index()
    span = (window.end - window.start) if window is not None else (s.index.max() - s.index.min())
    width = max(pd.Timedelta(minutes=1), pd.Timedelta(seconds=round(span.total_seconds() / 60 / 60) * 60))
    rate = s.resample(width).mean().dropna()
    t0 = pd.Timestamp(onset)
    after = rate[rate.index >= t0.floor(width)]
    if len(after) < 4:
        return None
    level = (baseline_rate or 0.0) * 2 + 0.005
    peak_idx = after.idxmax()
    tail = after[after.index > peak_idx]
    calm = tail <= level
    # recovered: the rest of the window stays calm from some bin on
    for i in range(len(tail)):
        if bool(calm.iloc[i:].all()) and len(tail) - i >= 3:
            return _iso(tail.index[i])
    return None


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


def _change_item(change: Mapping[str, Any], finding: Mapping[str, Any]) -> dict[str, Any]:
    text = str(change.get("description") or change.get("event_name") or "a change")
    return {"kind": "change", "id": finding.get("id"), "severity": finding.get("severity"),
            "title": text[:1].upper() + text[1:], "summary": str(change.get("explains") or ""),
            "time": _iso(change.get("timestamp")), "api": change.get("api"), "target": change.get("target")}


def trigger(findings: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The change that set the most likely cause off: the first related change of the top finding.

    Example
    -------
    >>> trigger([{"id": "cold-start-tail", "severity": "high", "related_changes": [
    ...     {"timestamp": "2026-09-01T18:26:41Z", "description": "provisioned concurrency on `api:live` was deleted",
    ...      "explains": "fewer initialised environments"}]}])["title"]
    'Provisioned concurrency on `api:live` was deleted'
    """
    top = findings[0] if findings else None
    changes = (top or {}).get("related_changes") or []
    return _change_item(changes[0], top) if changes else None


def contributing(findings: Sequence[Mapping[str, Any]], *, limit: int = 8) -> list[dict[str, Any]]:
    """Contributing factors: the top finding's other related changes, then the other findings (each with its own
    first related change). Items carry ``kind`` (``change`` or ``finding``), ``id``, ``title``, ``severity``, ``summary``."""
    out: list[dict[str, Any]] = []
    if findings:
        out += [_change_item(c, findings[0]) for c in (findings[0].get("related_changes") or [])[1:4]]
    for f in findings[1:]:
        out.append({"kind": "finding", **{k: f.get(k) for k in ("id", "title", "severity", "summary")}})
        if f.get("related_changes"):
            out.append(_change_item(f["related_changes"][0], f))
    return out[:limit]


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


def build(investigation: Any, findings: Iterable[Any]) -> dict[str, Any]:
    """The facts of a postmortem from an investigation and its ranked findings.

    Returns a JSON-able dict: ``title``, ``summary``, ``severity``, ``impact``,
    ``timeline``, ``root_cause``, ``trigger`` (:func:`trigger`), ``contributing``
    (:func:`contributing`), ``actions``, ``evidence``, ``data_quality``.
    """
    inv = investigation
    items = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in findings]
    top = items[0] if items else None
    requests = baseline_requests = None
    try:
        if inv._roles.get("logs:incident"):
            requests = inv.requests(window="incident")
        if inv.baseline is not None and inv._roles.get("logs:baseline"):
            baseline_requests = inv.requests(window="baseline")
    except Exception as exc:  # impact is best effort; the postmortem still lists the findings
        inv.issues.append(f"postmortem: requests could not be read ({type(exc).__name__}: {exc})")
    onset = (top or {}).get("onset")
    imp = impact(requests, baseline_requests, window=inv.window, onset=onset)
    inputs_health: dict[str, pd.DataFrame] = {}
    changes = None
    try:
        ins = inv.inputs()
        inputs_health = ins.health or {}
        changes = ins.changes
    except Exception as exc:
        inv.issues.append(f"postmortem: evidence could not be gathered ({type(exc).__name__}: {exc})")
    detection = _detection(inputs_health, inv.window)
    recovery = _recovery(requests, imp.get("baseline_error_rate"), onset, inv.window)
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
        "trigger": trigger(items),
        "contributing": contributing(items),
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
        lines.append(
            f"- Requests in the window: **{_n(imp['requests'])}**; failed: **{_n(imp.get('failed'))}** "
            f"({_pct(imp.get('error_rate'))}: {_n(imp.get('failed_5xx'))} 5xx/timeouts, {_n(imp.get('failed_4xx'))} 4xx)"
            + (f"; baseline failure rate {_pct(imp.get('baseline_error_rate'))}" if imp.get("baseline_error_rate") is not None else "")
        )
        if imp.get("excess_failed") is not None:
            lines.append(f"- Failures above the baseline rate: **{_n(imp['excess_failed'])}**")
        if imp.get("clients") is not None:
            lines.append(
                f"- Clients affected (distinct client IPs with a failed request): **{_n(imp.get('clients_affected'))}** "
                f"of {_n(imp['clients'])}"
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
    if pm.get("recovered"):
        lines.append(f"- Recovered: failure rate back at the baseline level at {pm['recovered']}")
    elif imp.get("requests"):
        lines.append("- Recovered: not within the investigated window (or the evidence does not show it)")
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
        if pm.get("trigger"):
            lines += [f"**Trigger:** {pm['trigger']['title']} — {pm['trigger']['summary']}.", ""]
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
