"""CloudWatch alarms on the snapshot's resources (matched by dimension) and their last state transitions."""

from __future__ import annotations

import json
from typing import Any, Mapping

import pandas as pd

from .collector import _Collector
from ...window import utc_or_nat

#: Alarms whose history is read (those in ALARM first, then the most recently changed).
MAX_ALARM_HISTORY = 50


def _collect_alarms(c: _Collector, history: int) -> None:
    alarms = c.pages("cloudwatch", "describe_alarms", "MetricAlarms", "NextToken", "NextToken", AlarmTypes=["MetricAlarm"])
    matched: list[tuple[Mapping[str, Any], str, str]] = []
    for a in alarms:
        dim_sets = [{d.get("Name"): d.get("Value") for d in a.get("Dimensions") or []}]
        for m in a.get("Metrics") or []:
            metric = (m.get("MetricStat") or {}).get("Metric") or {}
            dim_sets.append({d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or []})
        best: tuple[int, str, str] | None = None
        for rtype, rid, want in c.alarm_targets:
            if any(all(ds.get(k) == v for k, v in want.items()) for ds in dim_sets if ds):
                # an alarm on TargetGroup + LoadBalancer concerns the target group
                score = len(want) + (1 if "TargetGroup" in want else 0)
                if best is None or score > best[0]:
                    best = (score, rtype, rid)
        if best is not None:
            matched.append((a, best[1], best[2]))
    in_alarm: dict[tuple[str, str], list[str]] = {}
    for a, rtype, rid in matched:
        dims = {d.get("Name"): d.get("Value") for d in a.get("Dimensions") or []}
        c.add_row("alarms", alarm_name=a.get("AlarmName"), resource_type=rtype, resource_id=rid, state=a.get("StateValue"),
                  state_reason=a.get("StateReason"), state_updated=a.get("StateUpdatedTimestamp"), namespace=a.get("Namespace"),
                  metric_name=a.get("MetricName"), dimensions=json.dumps(dims, sort_keys=True, separators=(",", ":")),
                  actions_enabled=a.get("ActionsEnabled"))
        if a.get("StateValue") == "ALARM":
            in_alarm.setdefault((rtype, rid), []).append(str(a.get("AlarmName")))
    order = sorted(matched, key=lambda x: (x[0].get("StateValue") != "ALARM", -utc_or_nat(x[0].get("StateUpdatedTimestamp")).value
                                           if utc_or_nat(x[0].get("StateUpdatedTimestamp")) is not pd.NaT else 0))
    if history > 0:
        if len(order) > MAX_ALARM_HISTORY:
            c.add_issue("cloudwatch", f"alarm history read for {MAX_ALARM_HISTORY} of {len(order)} matched alarms "
                                      "(those in ALARM first, then the most recently changed)")
        notes: list[str] = []
        for a, rtype, rid in order[:MAX_ALARM_HISTORY]:
            resp = c.partial("cloudwatch", f"alarm {a.get('AlarmName')} history",
                             lambda a=a: c.call("cloudwatch", "describe_alarm_history", AlarmName=a.get("AlarmName"),
                                                HistoryItemType="StateUpdate", MaxRecords=history, ScanBy="TimestampDescending"),
                             notes)
            if resp is None:
                break  # the same permission or endpoint gap applies to every alarm
            for h in resp.get("AlarmHistoryItems") or []:
                old = new = None
                try:
                    data = json.loads(h.get("HistoryData") or "{}")
                    old = (data.get("oldState") or {}).get("stateValue")
                    new = (data.get("newState") or {}).get("stateValue")
                except ValueError:
                    pass
                c.add_row("alarm_history", timestamp=h.get("Timestamp"), alarm_name=h.get("AlarmName"), resource_type=rtype,
                          resource_id=rid, old_state=old, new_state=new, summary=h.get("HistorySummary"))
    # alarms in ALARM make their resource at least degraded
    for row in c.summary:
        names = in_alarm.get((row["resource_type"], row["resource_id"]))
        if not names:
            continue
        text = f"alarm {names[0]} in ALARM" + (f" (+{len(names) - 1})" if len(names) > 1 else "")
        if row["state"] in ("healthy", "unknown"):
            row["state"] = "degraded"
            row["reason"] = text
        else:
            row["reason"] = f"{row['reason']}; {text}"
    n_alarm = sum(len(v) for v in in_alarm.values())
    state = "degraded" if n_alarm else "healthy"
    reason = (f"{n_alarm} alarm(s) in ALARM: " + ", ".join(n for v in in_alarm.values() for n in v)[:200]) if n_alarm else \
        ("no alarm in ALARM" if matched else "no alarm watches these resources")
    c.add_summary("cloudwatch_alarms", "*", state if matched else "unknown", reason, f"{n_alarm} in ALARM of {len(matched)}",
                  "; ".join(notes) if history > 0 else "")
