"""Deriving an investigation from an alarm transition: the window, the baseline and the template parameters."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..._util.fmt import iso as _iso
from ...errors import AwsError, NotFoundError
from ...window import Window
from .cloudwatch_api import _alarm_name, describe, history
from .model import AlarmTrigger, Derivation
from .parameters import _merge, parameters_for_metric

#: Added before the start and after the end of a derived window.
DEFAULT_MARGIN = pd.Timedelta(minutes=15)
#: The shortest window derived (an alarm on a 1-minute metric still deserves context).
MIN_LOOKBACK = pd.Timedelta(minutes=30)
#: The longest window derived when the alarm never recovered.
MAX_WINDOW = pd.Timedelta(hours=24)


def derive(
    trigger: AlarmTrigger,
    *,
    transitions: pd.DataFrame | None = None,
    now: pd.Timestamp | None = None,
    margin: pd.Timedelta = DEFAULT_MARGIN,
) -> Derivation:
    """Derive the window, baseline and parameters from an alarm transition.

    Parameters
    ----------
    trigger:
        The alarm and its ALARM transition.
    transitions:
        The alarm's state history (:func:`history`); without it the window runs from the
        evaluation span before the transition to ``now`` (capped at 24 h).
    now:
        The current time (for alarms that have not recovered).
    margin:
        Added on both sides of the window.
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    alarm = trigger.alarm
    t0 = trigger.transition_time
    notes: list[str] = []
    sources: dict[str, str] = {}
    lookback = max(alarm.evaluation_span, MIN_LOOKBACK)
    start = t0 - lookback
    start_why = f"ALARM at {_iso(t0)} minus the evaluation span ({lookback})"
    end: pd.Timestamp | None = None
    end_why = ""
    if transitions is not None and not transitions.empty:
        before = transitions[(transitions["timestamp"] < t0) & (transitions["new_state"] == "OK")]
        if not before.empty:
            last_ok = before["timestamp"].iloc[-1]
            if t0 - last_ok < lookback:
                start, start_why = last_ok, f"last OK at {_iso(last_ok)} before the ALARM transition"
        after = transitions[(transitions["timestamp"] > t0) & (transitions["new_state"] == "OK")]
        if not after.empty:
            end = after["timestamp"].iloc[0]
            end_why = f"recovered to OK at {_iso(end)}"
    elif transitions is not None:
        notes.append("the alarm has no state history in the period asked; window derived from the event alone")
    if end is None:
        end = min(now, t0 + MAX_WINDOW)
        end_why = "not recovered: up to now" if end == now else f"not recovered: capped at {MAX_WINDOW} after ALARM"
    start, end = start - margin, min(end + margin, now)
    if end <= start:
        end = start + lookback
    window = Window(start, end)
    sources["window"] = f"start: {start_why}, end: {end_why}; margin {margin}"
    baseline = window.baseline("previous")
    sources["baseline"] = "the same length just before the window"

    params: dict[str, Any] = {}
    metrics = list(alarm.metrics)
    for child in alarm.children:
        if not trigger.triggering_children or child.arn in trigger.triggering_children or child.name in trigger.triggering_children:
            metrics.extend(child.metrics)
    if alarm.kind == "composite" and not alarm.children and trigger.triggering_children:
        notes.append(
            "composite alarm: children that fired are "
            + ", ".join(_alarm_name(c) for c in trigger.triggering_children)
            + " (describe them with --from-alarm to map their metrics)"
        )
    for m in metrics:
        mapped = parameters_for_metric(m, region=alarm.region, account=alarm.account)
        if not mapped:
            notes.append(f"metric {m.namespace}/{m.name} is not one the kit maps to resources; pass -p log_groups=... or resource parameters")
            continue
        dims = ",".join(f"{k}={v}" for k, v in m.dimensions)
        _merge(params, sources, mapped, f"{m.namespace} {m.name} {dims}", notes)
    return Derivation(window=window, baseline=baseline, parameters=params, sources=sources, trigger=trigger, notes=notes)


def from_alarm(name_or_arn: str, *, session: Any = None, region: str | None = None, endpoint_url: str | None = None,
               now: pd.Timestamp | None = None, margin: pd.Timedelta = DEFAULT_MARGIN) -> Derivation:
    """Describe an alarm and its history, and derive the investigation from its last ALARM transition.

    Raises
    ------
    NotFoundError
        No such alarm, or it never went to ALARM in the last 14 days (one line saying so).
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    alarm = describe(name_or_arn, session=session, region=region, endpoint_url=endpoint_url)
    notes: list[str] = []
    try:
        transitions = history(alarm, start=now - pd.Timedelta(days=14), end=now, session=session, region=region,
                              endpoint_url=endpoint_url)
    except AwsError as exc:  # e.g. DescribeAlarmHistory denied: the alarm's current state still dates the transition
        if not (alarm.state == "ALARM" and alarm.state_timestamp is not None):
            raise
        transitions = None
        text = " ".join(re.sub(r"<[^>]+>", " ", str(exc)).split())[:200]
        notes.append(f"alarm history not read ({text}); the ALARM time is the alarm's current state time")
    into_alarm = transitions[transitions["new_state"] == "ALARM"] if transitions is not None and not transitions.empty else None
    if into_alarm is None or into_alarm.empty:
        if alarm.state == "ALARM" and alarm.state_timestamp is not None:
            t0 = alarm.state_timestamp
        else:
            raise NotFoundError(
                f"alarm {alarm.name!r} has not been in ALARM in the last 14 days; give --start/--end instead",
                alarm=alarm.name,
            )
    else:
        t0 = into_alarm["timestamp"].iloc[-1]
    if transitions is None:
        transitions = pd.DataFrame({"timestamp": pd.Series(dtype="datetime64[ns, UTC]"), "old_state": [], "new_state": [],
                                    "summary": []})
    prev = transitions[transitions["timestamp"] < t0] if not transitions.empty else transitions
    trigger = AlarmTrigger(
        alarm=alarm,
        transition_time=t0,
        previous_state=prev["new_state"].iloc[-1] if len(prev) else None,
        previous_time=prev["timestamp"].iloc[-1] if len(prev) else None,
        triggering_children=[c.arn or c.name for c in alarm.children if c.state == "ALARM"],
        source="history",
    )
    derivation = derive(trigger, transitions=None if notes else transitions, now=now, margin=margin)
    derivation.notes[:0] = notes
    return derivation
