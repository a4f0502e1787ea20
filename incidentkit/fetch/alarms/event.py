"""Reading the EventBridge "CloudWatch Alarm State Change" event AWS delivers into an :class:`AlarmTrigger`."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ...errors import ParameterError
from ...window import parse_time
from .model import Alarm, AlarmTrigger, _metric_from_stat, _split_arn, _ts


def trigger_from_event(event: Mapping[str, Any]) -> AlarmTrigger:
    """Read an EventBridge "CloudWatch Alarm State Change" event, as AWS documents it.

    Raises
    ------
    ParameterError
        When the event is not an alarm state change into ALARM (one line saying what it is).
    """
    if not isinstance(event, Mapping):
        raise ParameterError("the event must be a JSON object (an EventBridge alarm state change)")
    detail_type = event.get("detail-type")
    if detail_type != "CloudWatch Alarm State Change" or "detail" not in event:
        raise ParameterError(
            f"not a CloudWatch alarm state change event (detail-type {detail_type!r}); "
            "pass the EventBridge event of a rule on source aws.cloudwatch"
        )
    for key in ("region", "account", "time"):
        if not isinstance(event.get(key), (str, type(None))):
            raise ParameterError(f"the event's {key!r} is not text; pass the event as delivered")
    try:
        return _trigger(event)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:  # a field of another JSON type than AWS documents
        raise ParameterError(
            f"the event is not shaped like an EventBridge alarm state change ({type(exc).__name__}: {exc}); "
            "pass the event as delivered"
        ) from None


def _trigger(event: Mapping[str, Any]) -> AlarmTrigger:
    detail = event["detail"]
    arn = (event.get("resources") or [None])[0]
    parts = _split_arn(arn)
    state = detail.get("state") or {}
    if state.get("value") != "ALARM":
        raise ParameterError(
            f"alarm {detail.get('alarmName')!r} went to {state.get('value')!r}, not ALARM: nothing to investigate"
        )
    config = detail.get("configuration") or {}
    alarm = Alarm(
        name=str(detail.get("alarmName") or parts.get("name") or "?"),
        arn=arn,
        region=event.get("region") or parts.get("region"),
        account=event.get("account") or parts.get("account"),
        state="ALARM",
        state_timestamp=_ts(state.get("timestamp")) or _ts(event.get("time")),
    )
    children: list[str] = []
    if "alarmRule" in config:
        alarm.kind = "composite"
        alarm.rule = config["alarmRule"]
        try:
            reason = json.loads(state.get("reasonData") or "{}")
        except json.JSONDecodeError:
            reason = {}
        for child in reason.get("triggeringAlarms", []) or []:
            if child.get("arn"):
                children.append(child["arn"])
        if not children:
            children = re.findall(r"ALARM\(\s*\"?([^)\"]+)\"?\s*\)", alarm.rule or "")
    else:
        metrics = config.get("metrics") or []
        exprs = [m for m in metrics if m.get("expression")]
        for m in metrics:
            if m.get("metricStat"):
                alarm.metrics.append(_metric_from_stat(m["metricStat"]))
        if exprs:
            alarm.kind = "math"
            alarm.expression = next((e["expression"] for e in exprs if e.get("returnData")), exprs[0]["expression"])
        periods = [m.period for m in alarm.metrics if m.period]
        alarm.period = max(periods) if periods else None
    prev = detail.get("previousState") or {}
    return AlarmTrigger(
        alarm=alarm,
        transition_time=alarm.state_timestamp or parse_time(event.get("time"), name="event time"),
        previous_state=prev.get("value"),
        previous_time=_ts(prev.get("timestamp")),
        triggering_children=children,
        source="event",
    )
