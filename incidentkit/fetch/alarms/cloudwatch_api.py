"""Reading alarms through the CloudWatch API: DescribeAlarms (metric, metric-math, composite) and DescribeAlarmHistory."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from ...errors import NotFoundError, from_botocore
from ...window import parse_time
from .. import aws
from .model import Alarm, AlarmTrigger, _metric_from_stat, _split_arn, _ts


def _alarm_from_api(item: Mapping[str, Any], kind_hint: str) -> Alarm:
    arn = item.get("AlarmArn")
    parts = _split_arn(arn)
    alarm = Alarm(
        name=item["AlarmName"],
        arn=arn,
        region=parts.get("region"),
        account=parts.get("account"),
        state=item.get("StateValue"),
        state_timestamp=_ts(item.get("StateUpdatedTimestamp")),
    )
    if kind_hint == "composite":
        alarm.kind = "composite"
        alarm.rule = item.get("AlarmRule")
        return alarm
    alarm.period = item.get("Period")
    alarm.evaluation_periods = item.get("EvaluationPeriods")
    alarm.datapoints_to_alarm = item.get("DatapointsToAlarm")
    if item.get("MetricName"):
        alarm.metrics.append(
            _metric_from_stat(
                {
                    "metric": {"Namespace": item.get("Namespace"), "MetricName": item["MetricName"], "Dimensions": item.get("Dimensions", [])},
                    "stat": item.get("Statistic") or item.get("ExtendedStatistic"),
                    "period": item.get("Period"),
                }
            )
        )
    for q in item.get("Metrics") or []:
        if q.get("MetricStat"):
            alarm.metrics.append(_metric_from_stat(q["MetricStat"]))
        if q.get("Expression"):
            alarm.kind = "math"
            if q.get("ReturnData", True):
                alarm.expression = q["Expression"]
    if alarm.period is None:
        periods = [m.period for m in alarm.metrics if m.period]
        alarm.period = max(periods) if periods else None
    return alarm


def _alarm_name(name_or_arn: str) -> str:
    parts = _split_arn(name_or_arn)
    return parts.get("name", name_or_arn)


def describe(name_or_arn: str, *, session: Any = None, region: str | None = None, endpoint_url: str | None = None,
             _depth: int = 0) -> Alarm:
    """Describe an alarm (metric, metric-math or composite) by name or ARN.

    Composite alarms get their children described too (two levels deep at most).

    Raises
    ------
    NotFoundError
        When no alarm has that name.
    """
    parts = _split_arn(name_or_arn)
    cw = aws.client("cloudwatch", session=session, region=region or parts.get("region"), endpoint_url=endpoint_url)
    name = _alarm_name(name_or_arn)
    try:
        resp = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    except (ClientError, BotoCoreError) as exc:
        raise from_botocore(exc, service="cloudwatch", alarm=name) from exc
    if resp.get("MetricAlarms"):
        return _alarm_from_api(resp["MetricAlarms"][0], "metric")
    if resp.get("CompositeAlarms"):
        alarm = _alarm_from_api(resp["CompositeAlarms"][0], "composite")
        if _depth < 2:
            for child in re.findall(r"ALARM\(\s*\"?([^)\"]+)\"?\s*\)", alarm.rule or ""):
                try:
                    alarm.children.append(describe(child, session=session, region=region or alarm.region,
                                                   endpoint_url=endpoint_url, _depth=_depth + 1))
                except NotFoundError:
                    continue
        return alarm
    raise NotFoundError(f"no CloudWatch alarm named {name!r} in this account and region; check --region", alarm=name)


def history(alarm: Alarm | str, *, start: Any = None, end: Any = None, session: Any = None, region: str | None = None,
            endpoint_url: str | None = None) -> pd.DataFrame:
    """The alarm's state transitions (``DescribeAlarmHistory``, StateUpdate items), oldest first.

    Columns: ``timestamp`` (UTC), ``old_state``, ``new_state``, ``summary``.
    """
    name = alarm.name if isinstance(alarm, Alarm) else _alarm_name(alarm)
    reg = region or (alarm.region if isinstance(alarm, Alarm) else _split_arn(alarm).get("region"))
    cw = aws.client("cloudwatch", session=session, region=reg, endpoint_url=endpoint_url)
    kwargs: dict[str, Any] = {"AlarmName": name, "HistoryItemType": "StateUpdate", "ScanBy": "TimestampDescending"}
    if start is not None:
        kwargs["StartDate"] = parse_time(start).to_pydatetime()
    if end is not None:
        kwargs["EndDate"] = parse_time(end).to_pydatetime()
    rows: list[dict[str, Any]] = []
    seen_tokens: set[str] = set()
    try:
        while True:
            resp = cw.describe_alarm_history(**kwargs)
            for item in resp.get("AlarmHistoryItems", []):
                data = {}
                try:
                    data = json.loads(item.get("HistoryData") or "{}")
                except json.JSONDecodeError:
                    pass
                old = (data.get("oldState") or {}).get("stateValue")
                new = (data.get("newState") or {}).get("stateValue")
                if not new:
                    m = re.search(r"from (\w+) to (\w+)", item.get("HistorySummary", ""))
                    if m:
                        old, new = m.group(1), m.group(2)
                rows.append({"timestamp": _ts(item.get("Timestamp")), "old_state": old, "new_state": new,
                             "summary": item.get("HistorySummary")})
            token = resp.get("NextToken")
            if not token or token in seen_tokens or len(rows) > 5000:
                break
            seen_tokens.add(token)
            kwargs["NextToken"] = token
    except (ClientError, BotoCoreError) as exc:
        raise from_botocore(exc, service="cloudwatch", alarm=name) from exc
    frame = pd.DataFrame(rows, columns=["timestamp", "old_state", "new_state", "summary"])
    if not frame.empty:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype("datetime64[ns, UTC]")
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    else:
        frame["timestamp"] = frame["timestamp"].astype("datetime64[ns, UTC]")
    return frame


def resolve_children(trigger: AlarmTrigger, *, session: Any = None, region: str | None = None,
                     endpoint_url: str | None = None) -> AlarmTrigger:
    """For a composite alarm from an event, describe the children that fired (their metrics)."""
    if trigger.alarm.kind != "composite" or trigger.alarm.children:
        return trigger
    for child in trigger.triggering_children:
        try:
            trigger.alarm.children.append(
                describe(child, session=session, region=region or trigger.alarm.region, endpoint_url=endpoint_url)
            )
        except NotFoundError:
            continue
    return trigger
