"""From a CloudWatch alarm to an investigation: window, baseline and template parameters.

A postmortem is auto-generated only when nobody has to type the window and the
resources: the alarm that paged the on-call already names them. This module reads an
alarm (by name/ARN with ``DescribeAlarms`` + ``DescribeAlarmHistory``, or from the
EventBridge "CloudWatch Alarm State Change" event AWS delivers) and derives:

* the **window**: from the ALARM transition back over the alarm's evaluation span (and to
  the last OK state when the history shows it), forward to recovery (the next OK) or now,
  with a margin on both sides;
* a **baseline** of the same length just before it;
* the **parameters**: each metric's namespace and dimensions map to the template
  parameters (``function_name``, ``load_balancer``, ``target_group_arn``, ``table_name``,
  ``db_instance``, ``api_id``, ``health_check_id``, ...). Metric-math alarms use every
  metric of the expression; composite alarms use their children that fired. Log groups
  follow where AWS's naming makes that certain (``/aws/lambda/<function>``).

What was derived, and from what, is kept in :attr:`Derivation.sources` so the runner can
print it and record it in the run's manifest.

Example
-------
>>> event = {"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
...   "account": "123456789012", "region": "us-east-1", "time": "2026-03-01T03:10:00Z",
...   "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-errors"],
...   "detail": {"alarmName": "api-errors",
...     "state": {"value": "ALARM", "timestamp": "2026-03-01T03:10:00.000+0000"},
...     "previousState": {"value": "OK", "timestamp": "2026-02-28T09:00:00.000+0000"},
...     "configuration": {"metrics": [{"id": "m1", "returnData": True, "metricStat": {
...       "metric": {"namespace": "AWS/Lambda", "name": "Errors",
...                  "dimensions": {"FunctionName": "api-handler"}},
...       "period": 60, "stat": "Sum"}}]}}}
>>> d = derive(trigger_from_event(event), now=pd.Timestamp("2026-03-01T04:00:00Z"))
>>> d.parameters["function_name"], d.parameters["log_groups"]
('api-handler', ['/aws/lambda/api-handler'])
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from ..._util.fmt import iso as _iso
from ...errors import AwsError, NotFoundError, ParameterError, from_botocore
from ...window import Window, parse_time
from .. import aws

__all__ = [
    "AlarmMetric",
    "Alarm",
    "AlarmTrigger",
    "Derivation",
    "trigger_from_event",
    "describe",
    "history",
    "derive",
    "from_alarm",
    "parameters_for_metric",
    "idempotency_key",
    "resolve_children",
    "DEFAULT_MARGIN",
]

#: Added before the start and after the end of a derived window.
DEFAULT_MARGIN = pd.Timedelta(minutes=15)
#: The shortest window derived (an alarm on a 1-minute metric still deserves context).
MIN_LOOKBACK = pd.Timedelta(minutes=30)
#: The longest window derived when the alarm never recovered.
MAX_WINDOW = pd.Timedelta(hours=24)

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):cloudwatch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):alarm:(?P<name>.+)$")


@dataclass(frozen=True)
class AlarmMetric:
    """One metric an alarm watches."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str | None = None
    period: int | None = None

    @property
    def dims(self) -> dict[str, str]:
        return dict(self.dimensions)


@dataclass
class Alarm:
    """What the kit needs to know about an alarm."""

    name: str
    arn: str | None = None
    region: str | None = None
    account: str | None = None
    kind: str = "metric"  # metric | math | composite
    metrics: list[AlarmMetric] = field(default_factory=list)
    expression: str | None = None
    rule: str | None = None  # composite alarm rule
    children: list["Alarm"] = field(default_factory=list)
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    state: str | None = None
    state_timestamp: pd.Timestamp | None = None

    @property
    def evaluation_span(self) -> pd.Timedelta:
        """How far back the alarm looked when it fired (period × evaluation periods)."""
        period = self.period or max((m.period or 60 for m in self.metrics), default=60)
        periods = self.evaluation_periods or 1
        span = pd.Timedelta(seconds=period * periods)
        for child in self.children:
            span = max(span, child.evaluation_span)
        return span


@dataclass
class AlarmTrigger:
    """An alarm and the transition into ALARM that started the investigation."""

    alarm: Alarm
    transition_time: pd.Timestamp
    previous_state: str | None = None
    previous_time: pd.Timestamp | None = None
    triggering_children: list[str] = field(default_factory=list)
    source: str = "event"  # event | history

    @property
    def key(self) -> str:
        """Idempotency key: the same transition delivered twice gives the same key."""
        return idempotency_key(self.alarm.arn or self.alarm.name, self.transition_time)


@dataclass
class Derivation:
    """What was derived from an alarm, and from what."""

    window: Window
    baseline: Window
    parameters: dict[str, Any]
    sources: dict[str, str]
    trigger: AlarmTrigger
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.trigger.key

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record for the run manifest."""
        return {
            "alarm": self.trigger.alarm.name,
            "alarm_arn": self.trigger.alarm.arn,
            "alarm_kind": self.trigger.alarm.kind,
            "transition_time": _iso(self.trigger.transition_time),
            "idempotency_key": self.key,
            "window": self.window.to_dict(),
            "baseline": self.baseline.to_dict(),
            "parameters": self.parameters,
            "sources": self.sources,
            "notes": self.notes,
        }

    def describe(self) -> str:
        """Human-readable lines: what was derived and from what (printed by the CLI)."""
        lines = [f"alarm {self.trigger.alarm.name} ({self.trigger.alarm.kind}) went to ALARM at {_iso(self.trigger.transition_time)}"]
        lines.append(f"window   {self.window}   [{self.sources.get('window', '')}]")
        lines.append(f"baseline {self.baseline}   [{self.sources.get('baseline', '')}]")
        for name, value in self.parameters.items():
            lines.append(f"{name} = {value}   [{self.sources.get(name, '')}]")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def idempotency_key(alarm_arn: str, transition_time: Any) -> str:
    """A short, stable key for one alarm transition (alarm ARN + transition time).

    Example
    -------
    >>> idempotency_key("arn:aws:cloudwatch:us-east-1:1:alarm:x", "2026-03-01T03:10:00Z") == \\
    ...     idempotency_key("arn:aws:cloudwatch:us-east-1:1:alarm:x", "2026-03-01T03:10:00.000+0000")
    True
    """
    ts = parse_time(transition_time, name="transition time").floor("s")
    return hashlib.sha256(f"{alarm_arn}|{ts.isoformat()}".encode()).hexdigest()[:16]


# --- metric -> parameters ---------------------------------------------------------------------


def parameters_for_metric(metric: AlarmMetric, *, region: str | None = None, account: str | None = None) -> dict[str, Any]:
    """Map one metric's namespace and dimensions to template parameters.

    Returns only what AWS's naming makes certain. Unknown namespaces give ``{}``.

    Example
    -------
    >>> parameters_for_metric(AlarmMetric("AWS/ApplicationELB", "HTTPCode_ELB_502_Count",
    ...     (("LoadBalancer", "app/web/50dc6c495c0c9188"), ("TargetGroup", "targetgroup/web/73e2d6bc24d8a067"))),
    ...     region="us-east-1", account="123456789012")["target_group_arn"]
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067'
    """
    d = metric.dims
    ns = metric.namespace
    out: dict[str, Any] = {}
    if ns == "AWS/Lambda":
        fn = d.get("FunctionName") or (d.get("Resource", "").split(":")[0] or None)
        if fn:
            out["function_name"] = fn
            out["log_groups"] = [f"/aws/lambda/{fn}"]
    elif ns == "AWS/ApiGateway":
        if "ApiId" in d:
            out["api_id"] = d["ApiId"]
        elif "ApiName" in d:
            out["api_name"] = d["ApiName"]  # REST APIs publish their metrics per API name
        if "Stage" in d:
            out["stage"] = d["Stage"]
    elif ns in ("AWS/ApplicationELB", "AWS/NetworkELB"):
        if "LoadBalancer" in d:
            out["load_balancer"] = d["LoadBalancer"]
        if "TargetGroup" in d:
            tg = d["TargetGroup"]
            if region and account and not tg.startswith("arn:"):
                out["target_group_arn"] = f"arn:aws:elasticloadbalancing:{region}:{account}:{tg}"
            else:
                out["target_group_arn"] = tg
    elif ns == "AWS/DynamoDB":
        if "TableName" in d:
            out["table_name"] = d["TableName"]
    elif ns == "AWS/RDS":
        if "DBInstanceIdentifier" in d:
            out["db_instance"] = d["DBInstanceIdentifier"]
    elif ns == "AWS/Route53":
        if "HealthCheckId" in d:
            out["health_check_id"] = d["HealthCheckId"]
    elif ns == "AWS/ECS":
        if "ClusterName" in d:
            out["ecs_cluster"] = d["ClusterName"]
        if "ServiceName" in d:
            out["ecs_service"] = d["ServiceName"]
    elif ns == "AWS/EC2":
        if "InstanceId" in d:
            out["instance_ids"] = [d["InstanceId"]]
    return out


def _merge(params: dict[str, Any], sources: dict[str, str], new: Mapping[str, Any], why: str, notes: list[str]) -> None:
    for key, value in new.items():
        if isinstance(value, list):  # log_groups, instance_ids: every metric adds to the list
            items = params.setdefault(key, [])
            for v in value:
                if v not in items:
                    items.append(v)
            sources[key] = "; ".join(filter(None, [sources.get(key), why]))
        elif key not in params:
            params[key] = value
            sources[key] = why
        elif params[key] != value:
            notes.append(f"{key}: kept {params[key]!r}; the alarm also names {value!r} ({why})")


# --- reading alarms ------------------------------------------------------------------------------


def _metric_from_stat(stat: Mapping[str, Any]) -> AlarmMetric:
    metric = stat.get("metric") or stat.get("Metric") or {}
    dims = metric.get("dimensions", metric.get("Dimensions", {}))
    if isinstance(dims, list):  # API shape: [{"Name":..., "Value":...}]
        dims = {d["Name"]: d["Value"] for d in dims}
    return AlarmMetric(
        namespace=str(metric.get("namespace", metric.get("Namespace", ""))),
        name=str(metric.get("name", metric.get("MetricName", ""))),
        dimensions=tuple(sorted((str(k), str(v)) for k, v in dims.items())),
        stat=stat.get("stat", stat.get("Stat")),
        period=stat.get("period", stat.get("Period")),
    )


def _split_arn(arn: str | None) -> dict[str, str]:
    m = _ARN.match(arn or "")
    return m.groupdict() if m else {}


def _ts(value: Any) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.strip())  # +0000 -> +00:00
    return parse_time(value, name="alarm timestamp")


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
    from botocore.exceptions import BotoCoreError, ClientError

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
    from botocore.exceptions import BotoCoreError, ClientError

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
