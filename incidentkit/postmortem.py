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

from .blameless import blameless_actor, blameless_text
from .changes import normalize_event_name
from .fmt import iso as _iso
from .postmortem_doc import PRIORITY, actions, markdown

__all__ = ["build", "markdown", "impact", "timeline", "actions", "blameless_actor", "blameless_text", "PRIORITY"]



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


def build(investigation: Any, findings: Iterable[Any]) -> dict[str, Any]:
    """The facts of a postmortem from an investigation and its ranked findings.

    Returns a JSON-able dict: ``title``, ``summary``, ``severity``, ``impact``,
    ``timeline``, ``root_cause``, ``actions``, ``evidence``, ``data_quality`` (the trigger and
    contributing factors are read from the findings' ``related_changes`` by :mod:`incidentkit.postmortem_doc`).
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
    imp = impact(requests, baseline_requests, window=inv.window, onset=onset)
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
        "actions": actions(items),
        "evidence": evidence,
        "data_quality": {
            "complete": bool(dq["complete"].all() and not dq["truncated"].any()) if len(dq) else True,
            "incomplete": [str(x) for x in dq.loc[~dq["complete"] | dq["truncated"], "frame"]] if len(dq) else [],
            "issues": list(inv.issues),
        },
    }
